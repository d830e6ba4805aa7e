// Tests of RequestReader: framing of a policy connection's byte stream into requests, however
// the bytes are split, and bounded memory for over-long lines, huge requests and floods.
#include "policyd/request_reader.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace mailsec::policyd {
namespace {

using Kind = RequestReader::Event::Kind;

// What the reader made of its input: "R:<lines>" for a request, "I:<error>" for an invalid
// one, "F" for a flood.
std::vector<std::string> drain(RequestReader& reader) {
  std::vector<std::string> out;
  for (;;) {
    const auto e = reader.next();
    if (e.kind == Kind::kNeedMore) return out;
    if (e.kind == Kind::kRequest) out.push_back("R:" + std::string(e.lines));
    if (e.kind == Kind::kInvalid) out.push_back("I:" + std::string(describe(e.error)));
    if (e.kind == Kind::kFlood) {
      out.push_back("F");
      return out;
    }
  }
}

std::vector<std::string> feed(RequestReader& reader, std::string_view bytes, std::size_t step) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < bytes.size(); i += step) {
    reader.append(bytes.substr(i, step));
    for (auto& e : drain(reader)) out.push_back(std::move(e));
  }
  return out;
}

TEST(RequestReaderTest, SplitsPipelinedRequestsHoweverTheBytesArrive) {
  const std::string stream =
      "request=smtpd_access_policy\nprotocol_state=RCPT\n\n"
      "request=smtpd_access_policy\r\nprotocol_state=DATA\r\n\r\n"
      "request=smtpd_access_policy\n\n";
  const std::vector<std::string> want = {
      "R:request=smtpd_access_policy\nprotocol_state=RCPT\n",
      "R:request=smtpd_access_policy\r\nprotocol_state=DATA\r\n",
      "R:request=smtpd_access_policy\n",
  };
  for (std::size_t step : {std::size_t{1}, std::size_t{2}, std::size_t{7}, stream.size()}) {
    RequestReader reader;
    EXPECT_EQ(feed(reader, stream, step), want) << "in pieces of " << step;
    EXPECT_FALSE(reader.midRequest());
  }
}

TEST(RequestReaderTest, MidRequestUntilTheEmptyLine) {
  RequestReader reader;
  EXPECT_FALSE(reader.midRequest());
  reader.append("request=smtpd_access_policy\n");
  EXPECT_TRUE(drain(reader).empty());
  EXPECT_TRUE(reader.midRequest());
  reader.append("\n");
  EXPECT_EQ(drain(reader).size(), 1u);
  EXPECT_FALSE(reader.midRequest());
}

TEST(RequestReaderTest, OverLongLineIsSkippedToTheEndOfItsRequest) {
  Limits limits;
  limits.max_line = 32;
  const std::string stream = "request=smtpd_access_policy\nhelo_name=" + std::string(200, 'x') +
                             "\nsize=1\n\nrequest=smtpd_access_policy\n\n";
  const std::vector<std::string> want = {"I:line too long", "R:request=smtpd_access_policy\n"};
  for (std::size_t step : {std::size_t{1}, std::size_t{5}, std::size_t{64}, stream.size()}) {
    RequestReader reader(limits);
    std::size_t most = 0;
    std::vector<std::string> got;
    for (std::size_t i = 0; i < stream.size(); i += step) {
      reader.append(std::string_view(stream).substr(i, step));
      most = std::max(most, reader.buffered());
      for (auto& e : drain(reader)) got.push_back(std::move(e));
    }
    EXPECT_EQ(got, want) << "in pieces of " << step;
    EXPECT_LE(most, 64u + limits.max_line + step) << "in pieces of " << step;
  }
}

TEST(RequestReaderTest, TheRestOfASkippedLineNeverEndsTheRequest) {
  // The over-long line is cut in the middle; its tail starts with "\r" and then "\n": that must
  // not read as an empty line.
  Limits limits;
  limits.max_line = 8;
  RequestReader reader(limits);
  reader.append("helo_name=xxxxxxxxxx");
  EXPECT_TRUE(drain(reader).empty());
  reader.append("\r\nsize=1\n");
  EXPECT_TRUE(drain(reader).empty());
  reader.append("\r\n");
  EXPECT_EQ(drain(reader), std::vector<std::string>{"I:line too long"});
}

TEST(RequestReaderTest, RequestOverTheSizeLimitIsSkipped) {
  Limits limits;
  limits.max_request = 100;
  RequestReader reader(limits);
  std::string big = "request=smtpd_access_policy\n";
  for (int i = 0; i < 10; ++i) big += "attr" + std::to_string(i) + "=0123456789\n";
  EXPECT_EQ(feed(reader, big + "\nrequest=smtpd_access_policy\n\n", 3),
            (std::vector<std::string>{"I:request too large", "R:request=smtpd_access_policy\n"}));
}

TEST(RequestReaderTest, GarbageWithoutEmptyLinesIsAFloodWithBoundedMemory) {
  Limits limits;
  limits.max_line = 100;
  limits.max_request = 1000;
  limits.max_discard = 10000;
  RequestReader reader(limits);
  std::string garbage;
  for (int i = 0; i < 4096; ++i) garbage.push_back(static_cast<char>((i * 37 + 11) % 256 | 1));
  std::vector<std::string> got;
  std::size_t most = 0;
  for (int round = 0; round < 10 && (got.empty() || got.back() != "F"); ++round) {
    reader.append(garbage);
    most = std::max(most, reader.buffered());
    for (auto& e : drain(reader)) got.push_back(std::move(e));
  }
  ASSERT_FALSE(got.empty());
  EXPECT_EQ(got.back(), "F");
  EXPECT_LE(most, garbage.size() + limits.max_request + 1);
  // A spent reader stays spent and holds nothing more.
  const std::size_t held = reader.buffered();
  reader.append(garbage);
  EXPECT_EQ(reader.next().kind, Kind::kFlood);
  EXPECT_EQ(reader.buffered(), held);
}

TEST(RequestReaderTest, EmptyRequestIsPassedOnForTheParserToReject) {
  RequestReader reader;
  reader.append("\n");
  EXPECT_EQ(drain(reader), std::vector<std::string>{"R:"});
  EXPECT_EQ(parseRequest("").error, RequestError::kMissingRequest);
}

}  // namespace
}  // namespace mailsec::policyd
