// message_headers_test.cc — readHeaderBlock (mbox line, CRLF/LF, folding, caps) and the
// per-message ReceivedCollector caps.
#include <gtest/gtest.h>

#include <string>

#include "core/received/message_headers.h"

namespace mailsec::core::received {
namespace {

TEST(ReadHeaderBlock, FieldsFoldingAndLineEnds) {
  const std::string msg =
      "From a@b Mon Dec  4 10:00:00 2023\n"
      "Received: from a\r\n\tby b; date\r\n"
      "Subject : hi\n"
      " there\n"
      "not a field\n"
      "\n"
      "Received: in the body\n";
  const HeaderBlock b = readHeaderBlock(msg);
  EXPECT_TRUE(b.mbox_from_line);
  EXPECT_TRUE(b.complete);
  ASSERT_EQ(b.fields.size(), 2U);
  EXPECT_EQ(b.fields[0].name, "Received");
  EXPECT_EQ(b.fields[0].value, " from a\r\n\tby b; date");
  EXPECT_EQ(unfold(b.fields[0].value), "from a\tby b; date");
  EXPECT_EQ(b.fields[1].name, "Subject");
  EXPECT_EQ(unfold(b.fields[1].value), "hi there");
  EXPECT_EQ(b.malformed_lines, 1U);
  EXPECT_EQ(b.header_bytes, msg.find("Received: in the body"));
}

TEST(ReadHeaderBlock, Caps) {
  std::string msg;
  for (int i = 0; i < 10; ++i) msg += "X-" + std::to_string(i) + ": v\n";
  msg += "\n";
  const HeaderBlock fields = readHeaderBlock(msg, HeaderLimits{3, 1 << 20});
  EXPECT_EQ(fields.fields.size(), 3U);
  EXPECT_TRUE(fields.field_cap_hit);
  EXPECT_FALSE(fields.complete);

  const HeaderBlock bytes = readHeaderBlock(msg, HeaderLimits{1000, 20});
  EXPECT_TRUE(bytes.byte_cap_hit);
  // "X-0: v\n" and "X-1: v\n" fit, X-2's line is cut; X-1 is dropped too, because a
  // continuation line of it may lie beyond the cap.
  EXPECT_EQ(bytes.fields.size(), 1U);
  EXPECT_FALSE(bytes.complete);

  const HeaderBlock none = readHeaderBlock("");
  EXPECT_TRUE(none.fields.empty());
  EXPECT_FALSE(none.complete);
}

TEST(IsReceivedName, CaseInsensitiveExact) {
  EXPECT_TRUE(isReceivedName("Received"));
  EXPECT_TRUE(isReceivedName("RECEIVED"));
  EXPECT_FALSE(isReceivedName("Received-SPF"));
  EXPECT_FALSE(isReceivedName("X-Received"));
  EXPECT_FALSE(isReceivedName(""));
}

TEST(ReceivedCollector, KeepsOnlyReceivedWithinCaps) {
  ReceivedCollector c(ReceivedLimits{2, 10});
  c.offer("Subject", "ignored and not counted");
  c.offer("received", "12345");
  c.offer("Received", "123456");  // 5 + 6 > 10
  EXPECT_TRUE(c.byteCapHit());
  EXPECT_FALSE(c.headerCapHit());
  c.offer("Received", "12345");
  c.offer("Received", "1");  // a third header
  EXPECT_TRUE(c.headerCapHit());
  ASSERT_EQ(c.values().size(), 2U);
  EXPECT_EQ(c.values()[0], "12345");
  EXPECT_EQ(c.dropped(), 2U);
  EXPECT_EQ(c.bytes(), 10U);
  c.clear();
  EXPECT_TRUE(c.values().empty());
  EXPECT_EQ(c.dropped(), 0U);
  EXPECT_FALSE(c.headerCapHit());
  EXPECT_FALSE(c.byteCapHit());
}

}  // namespace
}  // namespace mailsec::core::received
