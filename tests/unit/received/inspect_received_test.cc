// inspect_received_test.cc — mailsec-inspect's Received-chain output (report/inspect_cli,
// inspect_format) on real messages: the --json contract of docs/inspect.md, the hop table,
// standard input, and the exit codes for unreadable input and usage errors.
#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "received/test_data.h"
#include "report/inspect_cli.h"
#include "report/inspect_format.h"

namespace mailsec::report {
namespace {

struct Outcome {
  int code;
  std::string out;
  std::string err;
};

Outcome inspect(std::vector<std::string> args, const std::string& stdin_text = "") {
  std::istringstream in(stdin_text);
  std::ostringstream out;
  std::ostringstream err;
  const int code = runInspect(args, in, out, err);
  return {code, out.str(), err.str()};
}

std::string dataPath(const std::string& relative) {
  return std::string(MAILSEC_RECEIVED_DATA_DIR) + "/" + relative;
}

TEST(InspectReceived, JsonOfARealChain) {
  const Outcome r = inspect({"--json", dataPath("messages/freebsd-outlook-arcbad.eml")});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.err, "");
  for (const char* want : {
           R"("hops":[{"index":0,"position":"inbound","from":"mx2.freebsd.org",)",
           R"("protocol":"ESMTPS","tls":true,"tls_evidence":"postfix","tls_version":"TLSv1.3",)",
           R"("cipher":"TLS_AES_256_GCM_SHA384","cipher_bits":256,)",
           R"({"index":5,"position":"relay",)",
           R"("with":"Microsoft SMTP Server","protocol":"exchange","tls":true,)",
           R"({"index":7,"position":"origin",)",
           R"("protocol":"MAPI","tls":null,"tls_evidence":"none","tls_version":null,)",
           R"("path":"cleartext_hop","hop_count":8,"tls_hops":5,"cleartext_hops":2,)",
           R"("unknown_hops":1,"loopback_hops":0,"all_judgeable_tls":false,)",
           R"("first_cleartext":"relay","origin":{"protocol":"MAPI","authenticated":null,)",
       }) {
    EXPECT_NE(r.out.find(want), std::string::npos) << want << "\nin\n" << r.out;
  }
}

TEST(InspectReceived, TableFromStandardInputWithMboxLine) {
  const Outcome r = inspect({}, testing::readReceivedData("messages/slashnull-nice.mbox"));
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_NE(r.out.find("(standard input): 6 Received headers, hop 0 is the newest"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("path:   cleartext_hop (first cleartext hop: relay)"), std::string::npos)
      << r.out;
  const Outcome dash =
      inspect({"--json", "-"}, testing::readReceivedData("messages/slashnull-nice.mbox"));
  EXPECT_EQ(dash.code, kExitOk);
  EXPECT_NE(dash.out.find(R"("mbox_from_line":true)"), std::string::npos) << dash.out;
}

TEST(InspectReceived, ExitCodes) {
  const Outcome missing = inspect({"--json", dataPath("no-such-file.eml")});
  EXPECT_EQ(missing.code, kExitInput);
  EXPECT_EQ(missing.out, "");
  EXPECT_NE(missing.err.find("no-such-file.eml: cannot open"), std::string::npos) << missing.err;

  const Outcome directory = inspect({dataPath("messages")});
  EXPECT_EQ(directory.code, kExitInput);
  EXPECT_NE(directory.err.find("messages"), std::string::npos) << directory.err;

  const Outcome not_mail = inspect({"-"}, "just some text without a colon\n");
  EXPECT_EQ(not_mail.code, kExitInput);
  EXPECT_NE(not_mail.err.find("not an RFC 5322 message"), std::string::npos) << not_mail.err;

  EXPECT_EQ(inspect({"--bogus"}).code, kExitUsage);
  EXPECT_EQ(inspect({"a", "b"}).code, kExitUsage);
  EXPECT_EQ(inspect({"--help"}).code, kExitOk);
}

TEST(InspectReceived, HostileBytesStayValidJson) {
  using namespace std::string_literals;
  EXPECT_EQ(jsonString("a\0\"\\\n\xff"s), R"("a\u0000\"\\\n\ufffd")");
  const Outcome r = inspect({"--json", "-"}, "Received: from \xff\xfe\0x by \x01 with ESMTPS\n\n"s);
  ASSERT_EQ(r.code, kExitOk);
  EXPECT_NE(r.out.find(R"("from":"\ufffd\ufffd\u0000x","from_rdns":null)"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find(R"("by":"\u0001")"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace mailsec::report
