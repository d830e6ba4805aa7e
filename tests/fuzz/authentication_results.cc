// Fuzz target: Authentication-Results field values (any bytes, one per line) through the
// RFC 8601 reader, with "mx.example.org" trusted.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/auth/authentication_results.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::vector<std::string_view> fields;
  while (!input.empty()) {
    const std::size_t end = input.find('\n');
    fields.push_back(input.substr(0, end));
    if (end == std::string_view::npos) break;
    input.remove_prefix(end + 1);
  }
  static const std::vector<std::string> trusted = {"mx.example.org"};
  std::size_t ignored = 0;
  const auto verdicts = mailsec::core::auth::readAuthenticationResults(fields, trusted, ignored);
  if (ignored > fields.size()) __builtin_trap();
  if (verdicts && verdicts->dkim.size() > 16) __builtin_trap();
  return 0;
}
