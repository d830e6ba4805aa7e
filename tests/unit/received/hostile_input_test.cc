// hostile_input_test.cc — what a hostile or broken sender can put in a Received header: deep
// or unbalanced nesting, stray parentheses, NUL and non-UTF-8 bytes, huge values, token floods.
// The parser must stay inside the value, keep every field bounded, and never guess TLS.
#include <gtest/gtest.h>

#include <string>

#include "core/received/received_parser.h"

namespace mailsec::core::received {
namespace {

void expectBounded(const Hop& h) {
  for (const std::string* s :
       {&h.from, &h.from_rdns, &h.from_ip, &h.from_helo, &h.by, &h.by_comment, &h.via, &h.with,
        &h.id, &h.for_recipient, &h.date, &h.tls_version_raw, &h.cipher, &h.client_subject,
        &h.client_issuer}) {
    EXPECT_LE(s->size(), kMaxFieldBytes);
  }
}

TEST(HostileInput, DeepNestingCostsNoStack) {
  const std::string value = "from a " + std::string(200000, '(') + " by b with ESMTPS";
  const Hop h = parseReceived(value);
  EXPECT_TRUE(h.truncated);  // longer than kMaxValueBytes
  EXPECT_TRUE(h.malformed);  // the comment never closes
  EXPECT_EQ(h.from, "a");
  EXPECT_EQ(toLabel(h.protocol), "unknown");  // "with ESMTPS" is inside the open comment
  expectBounded(h);
}

TEST(HostileInput, StrayAndUnbalancedParentheses) {
  const Hop stray = parseReceived("from a)) by b with ESMTP; date");
  EXPECT_TRUE(stray.malformed);
  EXPECT_EQ(stray.by, "b");
  EXPECT_EQ(toLabel(stray.protocol), "ESMTP");
  const Hop open = parseReceived("from a (using TLSv1.3 with cipher X by b with ESMTP");
  EXPECT_TRUE(open.malformed);
  EXPECT_EQ(open.by, "");
  // The unterminated comment still looks like Postfix's TLS comment: the hop did say TLS.
  EXPECT_EQ(toLabel(open.tls), "true");
  EXPECT_EQ(toLabel(open.profile.version), "TLSv1.3");
}

TEST(HostileInput, NulAndNonUtf8Bytes) {
  using namespace std::string_literals;
  const std::string value = "from \xff\xfe\0x by b\0c with ESMTPS; \x80\0\0"s;
  const Hop h = parseReceived(value);
  EXPECT_EQ(toLabel(h.protocol), "ESMTPS");
  EXPECT_EQ(h.from, "\xff\xfe\0x"s);
  EXPECT_EQ(h.by, "b\0c"s);
  expectBounded(h);
}

TEST(HostileInput, LongFieldsAreCut) {
  const std::string host(5000, 'a');
  const Hop h = parseReceived("from " + host + " by " + host + " with " + host + " id " + host);
  EXPECT_EQ(h.from.size(), kMaxFieldBytes);
  EXPECT_EQ(h.by.size(), kMaxFieldBytes);
  EXPECT_EQ(toLabel(h.protocol), "other");
  expectBounded(h);
}

TEST(HostileInput, TokenFloodIsTruncated) {
  std::string value = "from a by b";
  for (int i = 0; i < 2000; ++i) value += " x";
  value += " with ESMTPS";
  const Hop h = parseReceived(value);
  EXPECT_TRUE(h.truncated);
  EXPECT_EQ(toLabel(h.protocol), "unknown");
  EXPECT_EQ(h.by, "b");
}

TEST(HostileInput, LooksLikeTlsButIsNot) {
  // Words that merely resemble the TLS forms must not become TLS evidence.
  for (const char* value :
       {"from a by b with ESMTP (version of me)", "from a by b with ESMTP (using my hands)",
        "from a by b with ESMTP (TLSv1:x)", "from a by b with ESMTP (three words encrypted)",
        "from a by b with ESMTP/SSL/RC4"}) {
    SCOPED_TRACE(value);
    const Hop h = parseReceived(value);
    EXPECT_NE(toLabel(h.tls), "true");
  }
}

TEST(HostileInput, EmptyAndWhitespace) {
  for (const char* value : {"", " ", "\r\n\t", ";", "()", "(((", ")))", "with", "from"}) {
    SCOPED_TRACE(value);
    const Hop h = parseReceived(value);
    EXPECT_EQ(toLabel(h.tls), "unknown");
    EXPECT_EQ(h.from, "");
    EXPECT_EQ(h.by, "");
  }
}

TEST(HostileInput, BackslashAtEndOfComment) {
  const std::string value = "from a (x\\";
  const Hop h = parseReceived(value);  // the escape would step past the end
  EXPECT_TRUE(h.malformed);
  EXPECT_EQ(h.from, "a");
}

}  // namespace
}  // namespace mailsec::core::received
