// Table-driven tests of parseRequest() and parseStage(): what a valid Postfix request yields,
// and which error each kind of malformed request gets.
#include "policyd/request_parser.h"

#include <gtest/gtest.h>

#include <string>

namespace mailsec::policyd {
namespace {

// A request as Postfix 3.7 sends it at RCPT (attribute lines only, without the empty line).
constexpr std::string_view kPostfixRcpt =
    "request=smtpd_access_policy\n"
    "protocol_state=RCPT\n"
    "protocol_name=ESMTP\n"
    "client_address=192.0.2.10\n"
    "client_name=client.example\n"
    "client_port=40312\n"
    "reverse_client_name=client.example\n"
    "server_address=198.51.100.1\n"
    "server_port=25\n"
    "helo_name=client.example\n"
    "sender=sender@example.org\n"
    "recipient=user@mailsec.test\n"
    "recipient_count=0\n"
    "queue_id=\n"
    "instance=1a2b.6589d1f0.5c3e7.0\n"
    "size=0\n"
    "etrn_domain=\n"
    "stress=\n"
    "sasl_method=\n"
    "sasl_username=\n"
    "sasl_sender=\n"
    "ccert_subject=client.mailsec.test\n"
    "ccert_issuer=mailsec Test CA\n"
    "ccert_fingerprint=AB:CD\n"
    "ccert_pubkey_fingerprint=EF:01\n"
    "encryption_protocol=TLSv1.3\n"
    "encryption_cipher=TLS_AES_256_GCM_SHA384\n"
    "encryption_keysize=256\n"
    "policy_context=mx\n"
    "compatibility_level=3.6\n"
    "mail_version=3.7.11\n";

TEST(RequestParserTest, ReadsEveryAttributeOfAPostfixRequest) {
  const ParseResult r = parseRequest(kPostfixRcpt);
  ASSERT_TRUE(r.ok()) << describe(r.error);
  EXPECT_EQ(r.request.request, "smtpd_access_policy");
  EXPECT_EQ(r.request.protocol_state, "RCPT");
  EXPECT_EQ(r.request.client_address, "192.0.2.10");
  EXPECT_EQ(r.request.client_port, "40312");
  EXPECT_EQ(r.request.server_address, "198.51.100.1");
  EXPECT_EQ(r.request.server_port, "25");
  EXPECT_EQ(r.request.helo_name, "client.example");
  EXPECT_EQ(r.request.queue_id, "");
  EXPECT_EQ(r.request.instance, "1a2b.6589d1f0.5c3e7.0");
  EXPECT_EQ(r.request.encryption_protocol, "TLSv1.3");
  EXPECT_EQ(r.request.encryption_cipher, "TLS_AES_256_GCM_SHA384");
  EXPECT_EQ(r.request.encryption_keysize, "256");
  EXPECT_EQ(r.request.ccert_subject, "client.mailsec.test");
  EXPECT_EQ(r.request.ccert_issuer, "mailsec Test CA");
  EXPECT_EQ(r.request.ccert_fingerprint, "AB:CD");
  EXPECT_EQ(r.request.ccert_pubkey_fingerprint, "EF:01");
  EXPECT_EQ(r.request.policy_context, "mx");
  EXPECT_EQ(r.request.client_name, "client.example");
  EXPECT_EQ(r.request.sender, "sender@example.org");
  EXPECT_EQ(r.request.attributes, 31u);
}

TEST(RequestParserTest, CrlfLinesAndAMissingFinalNewlineAreAccepted) {
  const ParseResult r =
      parseRequest("request=smtpd_access_policy\r\nprotocol_state=END-OF-MESSAGE\r\nsize=12");
  ASSERT_TRUE(r.ok()) << describe(r.error);
  EXPECT_EQ(r.request.protocol_state, "END-OF-MESSAGE");
  EXPECT_EQ(r.request.attributes, 3u);
}

TEST(RequestParserTest, ValuesMayHoldAnyByteButNewline) {
  using namespace std::string_literals;
  const std::string lines = "request=smtpd_access_policy\nhelo_name=a=b\0\xff c\n"s;
  const ParseResult r = parseRequest(lines);
  ASSERT_TRUE(r.ok()) << describe(r.error);
  EXPECT_EQ(r.request.helo_name, std::string_view("a=b\0\xff c", 7));
}

struct ErrorCase {
  const char* name;
  std::string lines;
  RequestError want;
};

TEST(RequestParserTest, MalformedRequestsGetTheirError) {
  Limits small;
  small.max_line = 80;
  small.max_attributes = 4;
  small.max_request = 200;
  const std::string req = "request=smtpd_access_policy\n";
  const ErrorCase cases[] = {
      {"empty", "", RequestError::kMissingRequest},
      {"no request attribute", "protocol_state=RCPT\n", RequestError::kMissingRequest},
      {"other request", "request=junk\n", RequestError::kWrongRequest},
      {"line without =", req + "garbage\n", RequestError::kMalformedLine},
      {"empty name", req + "=value\n", RequestError::kMalformedLine},
      {"upper-case name", req + "Helo_Name=x\n", RequestError::kMalformedLine},
      {"name with space", req + "helo name=x\n", RequestError::kMalformedLine},
      {"binary name", req + "\x01\x02=x\n", RequestError::kMalformedLine},
      {"empty line inside", req + "\nprotocol_state=RCPT\n", RequestError::kMalformedLine},
      {"name too long", req + std::string(65, 'a') + "=x\n", RequestError::kMalformedLine},
      {"duplicate known attribute", req + "helo_name=a\nhelo_name=b\n", RequestError::kDuplicate},
      {"duplicate request", req + req, RequestError::kDuplicate},
      {"too many attributes", req + "a=1\nb=2\nc=3\nd=4\n", RequestError::kTooManyAttributes},
      {"line too long", req + "helo_name=" + std::string(71, 'x') + "\n",
       RequestError::kLineTooLong},
      {"request too large",
       req + "a=" + std::string(58, 'x') + "\nb=" + std::string(58, 'x') +
           "\nc=" + std::string(58, 'x') + "\n",
       RequestError::kRequestTooLarge},
  };
  for (const auto& c : cases) {
    const ParseResult r = parseRequest(c.lines, small);
    EXPECT_EQ(r.error, c.want) << c.name << ": got \"" << describe(r.error) << "\", want \""
                               << describe(c.want) << "\"";
  }
}

TEST(RequestParserTest, LineLimitIsOnTheLineWithoutItsCarriageReturn) {
  Limits small;
  small.max_line = 40;
  const std::string line40 = "helo_name=" + std::string(30, 'x');
  EXPECT_TRUE(parseRequest("request=smtpd_access_policy\n" + line40 + "\r\n", small).ok());
  EXPECT_EQ(parseRequest("request=smtpd_access_policy\n" + line40 + "x\n", small).error,
            RequestError::kLineTooLong);
}

TEST(RequestParserTest, UnknownAttributesMayRepeat) {
  const ParseResult r = parseRequest("request=smtpd_access_policy\nfuture=1\nfuture=2\n");
  ASSERT_TRUE(r.ok()) << describe(r.error);
  EXPECT_EQ(r.request.attributes, 3u);
}

TEST(RequestParserTest, StagesFromProtocolState) {
  using core::SmtpStage;
  const std::pair<std::string_view, SmtpStage> cases[] = {
      {"CONNECT", SmtpStage::kConnect},
      {"EHLO", SmtpStage::kEhlo},
      {"HELO", SmtpStage::kHelo},
      {"MAIL", SmtpStage::kMail},
      {"RCPT", SmtpStage::kRcpt},
      {"DATA", SmtpStage::kData},
      {"END-OF-MESSAGE", SmtpStage::kEndOfMessage},
      {"VRFY", SmtpStage::kVrfy},
      {"ETRN", SmtpStage::kEtrn},
      {"rcpt", SmtpStage::kOther},
      {"", SmtpStage::kOther},
      {"RCPT ", SmtpStage::kOther},
      {"BDAT", SmtpStage::kOther},
  };
  for (const auto& [text, want] : cases) {
    EXPECT_EQ(parseStage(text), want) << "protocol_state=\"" << text << "\"";
  }
}

}  // namespace
}  // namespace mailsec::policyd
