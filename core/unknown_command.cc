#include "core/unknown_command.h"

#include <cstddef>

namespace mailsec::core {
namespace {

constexpr std::string_view kStarttls = "STARTTLS";

char upper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; }

bool equalsUpper(std::string_view text, std::string_view upperWant) {
  if (text.size() != upperWant.size()) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (upper(text[i]) != upperWant[i]) return false;
  }
  return true;
}

std::string_view firstWord(std::string_view line) {
  std::size_t begin = 0;
  while (begin < line.size() && (line[begin] == ' ' || line[begin] == '\t')) ++begin;
  std::size_t end = begin;
  while (end < line.size() && line[end] != ' ' && line[end] != '\t' && line[end] != '\r' &&
         line[end] != '\n') {
    ++end;
  }
  return line.substr(begin, end - begin);
}

}  // namespace

UnknownCommandSignature classifyUnknownCommand(std::string_view line) {
  const std::string_view verb = firstWord(line);
  if (equalsUpper(verb, "XXXXXXXX")) return UnknownCommandSignature::kStarttlsMasked;
  if (verb.size() >= 4 && verb.size() < kStarttls.size()) {
    if (equalsUpper(verb, kStarttls.substr(0, verb.size())) ||
        equalsUpper(verb, kStarttls.substr(kStarttls.size() - verb.size()))) {
      return UnknownCommandSignature::kStarttlsTruncated;
    }
  }
  return UnknownCommandSignature::kOther;
}

}  // namespace mailsec::core
