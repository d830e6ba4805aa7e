#include "core/unknown_command.h"

#include <gtest/gtest.h>

#include <string>

namespace mailsec::core {
namespace {

struct Case {
  std::string line;
  UnknownCommandSignature want;
};

TEST(UnknownCommand, Classifies) {
  using S = UnknownCommandSignature;
  const Case cases[] = {
      {"XXXXXXXX", S::kStarttlsMasked},
      {"xxxxxxxx", S::kStarttlsMasked},
      {"XXXXXXXX\r\n", S::kStarttlsMasked},
      {"  XXXXXXXX extra", S::kStarttlsMasked},
      {"XXXXXXX", S::kOther},    // seven
      {"XXXXXXXXX", S::kOther},  // nine
      {"STAR", S::kStarttlsTruncated},
      {"start", S::kStarttlsTruncated},
      {"STARTTL", S::kStarttlsTruncated},
      {"TTLS", S::kStarttlsTruncated},
      {"ARTTLS", S::kStarttlsTruncated},
      {"STA", S::kOther},  // too short to tell
      {"TLS", S::kOther},
      {"STARTTLS", S::kOther},  // the real command is not unknown; if it arrives here, other
      {"STARTXXX", S::kOther},
      {"", S::kOther},
      {"FOO BAR", S::kOther},
      {std::string("X\0XXXXXX", 8), S::kOther},
      {std::string(10000, 'X'), S::kOther},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(classifyUnknownCommand(c.line), c.want)
        << "line \"" << c.line.substr(0, 40) << "\": got " << toLabel(classifyUnknownCommand(c.line))
        << ", want " << toLabel(c.want);
  }
}

}  // namespace
}  // namespace mailsec::core
