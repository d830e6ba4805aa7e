#include "core/peer_text.h"

#include <gtest/gtest.h>

namespace mailsec::core {
namespace {

TEST(PeerText, BoundedCopy) {
  bool truncated = true;
  EXPECT_EQ(boundedCopy("abc", 5, &truncated), "abc");
  EXPECT_FALSE(truncated);
  EXPECT_EQ(boundedCopy("abcdef", 3, &truncated), "abc");
  EXPECT_TRUE(truncated);
}

TEST(PeerText, PrintableAscii) {
  EXPECT_TRUE(isPrintableAscii("mail.example.org"));
  EXPECT_TRUE(isPrintableAscii("[192.0.2.1]"));
  EXPECT_FALSE(isPrintableAscii("a b"));
  EXPECT_FALSE(isPrintableAscii("caf\xc3\xa9"));
  EXPECT_FALSE(isPrintableAscii(std::string("a\0b", 3)));
}

TEST(PeerText, Numbers) {
  EXPECT_EQ(parsePort("25"), 25);
  EXPECT_EQ(parsePort(" 587 "), 587);
  EXPECT_EQ(parsePort("65535"), 65535);
  EXPECT_EQ(parsePort("65536"), std::nullopt);
  EXPECT_EQ(parsePort("-1"), std::nullopt);
  EXPECT_EQ(parsePort("25x"), std::nullopt);
  EXPECT_EQ(parsePort(""), std::nullopt);
  EXPECT_EQ(parseUnsigned("4294967295"), 4294967295u);
  EXPECT_EQ(parseUnsigned("4294967296"), std::nullopt);
  EXPECT_EQ(parseUnsigned("99999999999999999999"), std::nullopt);
}

}  // namespace
}  // namespace mailsec::core
