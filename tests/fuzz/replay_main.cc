// replay_main.cc — runs a fuzz target's LLVMFuzzerTestOneInput over every file of its corpus
// directories (arguments), so the corpus replays as an ordinary test under any compiler.
// Exits 0 when every input ran (a crash, sanitizer report or abort fails the test), 1 when a
// directory is missing or empty — a corpus that is not there is not a passing test.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

int main(int argc, char** argv) {
  std::size_t ran = 0;
  for (int i = 1; i < argc; ++i) {
    std::error_code ec;
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(argv[i], ec)) {
      if (entry.is_regular_file()) files.push_back(entry.path());
    }
    if (ec) {
      std::cerr << "replay: cannot read " << argv[i] << ": " << ec.message() << "\n";
      return 1;
    }
    for (const auto& path : files) {
      std::ifstream in(path, std::ios::binary);
      std::ostringstream content;
      content << in.rdbuf();
      const std::string bytes = std::move(content).str();
      LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
      ++ran;
    }
  }
  if (ran == 0) {
    std::cerr << "replay: no corpus input found\n";
    return 1;
  }
  std::cout << "replay: " << ran << " inputs ran without a crash\n";
  return 0;
}
