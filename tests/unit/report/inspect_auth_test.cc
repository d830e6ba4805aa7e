// mailsec-inspect's verdicts: offline (no --dns), from a trusted Authentication-Results field,
// and the new options' usage errors. (With --dns against a real server: the integration
// tests; the verifier itself: tests/unit/auth/dkim_test.cc.)
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "report/inspect_cli.h"

namespace mailsec::report {
namespace {

std::string path(const std::string& name) {
  return std::string(MAILSEC_DKIM_DATA_DIR) + "/messages/" + name + ".eml";
}

struct Outcome {
  int code;
  std::string out;
  std::string err;
};

Outcome run(std::vector<std::string> args, const std::string& stdin_text = "") {
  std::istringstream in(stdin_text);
  std::ostringstream out;
  std::ostringstream err;
  const int code = runInspect(args, in, out, err);
  return {code, out.str(), err.str()};
}

TEST(InspectAuth, OfflineJsonShowsSignaturesWithNullVerdicts) {
  const Outcome r = run({"--json", path("pass_rsa2048")});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  {
    EXPECT_NE(
        r.out.find(
            "\"auth\":{\"source\":\"verified\",\"resolver\":\"none\",\"spf\":null,"
            "\"dkim\":[{\"domain\":\"mailsec.test\",\"result\":null,\"reason\":null,"
            "\"algorithm\":\"rsa-sha256\",\"key_bits\":null}],\"dmarc\":null,\"method\":\"none\","
            "\"records\":[]"),
        std::string::npos)
        << r.out;
  }
  EXPECT_NE(r.out.find("no resolver (--dns)"), std::string::npos);
}

TEST(InspectAuth, WhatNeedsNoDnsIsShownOffline) {
  const Outcome r = run({"--json", path("duplicate_d")});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_NE(r.out.find("\"result\":\"permerror\",\"reason\":\"syntax\""), std::string::npos)
      << r.out;
  const Outcome unsigned_message = run({"--json", path("unsigned")});
  EXPECT_NE(unsigned_message.out.find("\"dkim\":[]"), std::string::npos);
}

TEST(InspectAuth, TableHasTheDkimRows) {
  const Outcome r = run({path("two_signatures")});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_NE(r.out.find("dkim:  2 signatures"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("(needs DNS)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("spf:   not computed"), std::string::npos) << r.out;
}

TEST(InspectAuth, TrustedAuthenticationResultsAreShownInstead) {
  const std::string message =
      "Authentication-Results: evil.example; dkim=fail header.d=x.test\n"
      "Authentication-Results: mx.example.org; dkim=pass (2048-bit key) header.d=x.test "
      "header.a=rsa-sha256; spf=pass smtp.mailfrom=a@x.test; dmarc=pass (p=reject) "
      "header.from=x.test\n"
      "From: a@x.test\n"
      "\n"
      "body\n";
  const Outcome r = run({"--json", "--trusted-authserv-id=mx.example.org", "-"}, message);
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_NE(r.out.find("\"source\":\"authentication_results\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"spf\":{\"result\":\"pass\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"result\":\"pass\",\"reason\":\"none\",\"algorithm\":\"rsa-sha256\","
                       "\"key_bits\":2048"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("\"dmarc\":{\"result\":\"pass\",\"policy\":\"reject\""), std::string::npos);
  EXPECT_NE(r.out.find("\"untrusted_authentication_results\":1"), std::string::npos);

  // Without the option, the same fields are not believed.
  const Outcome untrusted = run({"--json", "-"}, message);
  EXPECT_NE(untrusted.out.find("\"source\":\"verified\""), std::string::npos);
}

TEST(InspectAuth, OptionsTakeValues) {
  for (const char* option : {"--dns", "--client-ip", "--helo", "--mail-from",
                             "--trusted-authserv-id", "--trust-anchor"}) {
    SCOPED_TRACE(option);
    const Outcome r = run({path("unsigned"), option});
    EXPECT_EQ(r.code, kExitUsage);
    EXPECT_NE(r.err.find("needs a value"), std::string::npos) << r.err;
  }
  const Outcome ok = run({"--client-ip", "192.0.2.1", "--helo=mail.example", "--mail-from",
                          "a@example.com", "--no-dnssec", path("unsigned")});
  EXPECT_EQ(ok.code, kExitOk) << ok.err;
  const Outcome bad_dns = run({"--dns", "not an address", path("unsigned")});
  EXPECT_EQ(bad_dns.code, kExitInput);
  EXPECT_NE(bad_dns.err.find("resolver"), std::string::npos) << bad_dns.err;
}

}  // namespace
}  // namespace mailsec::report
