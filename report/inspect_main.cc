// inspect_main.cc — mailsec-inspect's entry point; everything else is in inspect_cli.cc.
#include <iostream>
#include <string>
#include <vector>

#include "report/inspect_cli.h"

int main(int argc, char** argv) {
  std::ios::sync_with_stdio(false);
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) args.emplace_back(argv[i]);
  try {
    return mailsec::report::runInspect(args, std::cin, std::cout, std::cerr);
  } catch (const std::exception& e) {
    std::cerr << "mailsec-inspect: " << e.what() << "\n";
    return mailsec::report::kExitInput;
  }
}
