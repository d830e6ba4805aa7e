// Authentication-Results reader: fields as OpenDKIM, OpenDMARC, rspamd and policyd-spf write
// them, from trusted and untrusted authserv-ids, and malformed ones.
#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "core/auth/authentication_results.h"

namespace mailsec::core::auth {
namespace {

const std::vector<std::string> kTrusted = {"mx.example.org"};

std::optional<AuthVerdicts> read(std::vector<std::string_view> fields, std::size_t& ignored) {
  return readAuthenticationResults(fields, kTrusted, ignored);
}

struct DkimCase {
  const char* field;
  DkimResult result;
  DkimReason reason;
  DkimAlgorithm algorithm;
  const char* domain;
  unsigned key_bits;
};

TEST(AuthenticationResults, DkimResultsAndReasons) {
  const DkimCase kCases[] = {
      // OpenDKIM 2.11
      {"mx.example.org; dkim=pass (2048-bit key; unprotected) header.d=example.com "
       "header.i=@example.com header.a=rsa-sha256 header.s=sel header.b=AbCdEfGh",
       DkimResult::kPass, DkimReason::kNone, DkimAlgorithm::kRsaSha256, "example.com", 2048},
      {"mx.example.org;\r\n\tdkim=fail reason=\"signature verification failed\" (1024-bit key;"
       " unprotected) header.d=Example.COM header.i=@example.com header.b=x",
       DkimResult::kFail, DkimReason::kSignatureMismatch, DkimAlgorithm::kOther, "example.com",
       1024},
      {"mx.example.org; dkim=fail reason=\"body hash did not verify\" header.d=example.com",
       DkimResult::kFail, DkimReason::kBodyHashMismatch, DkimAlgorithm::kOther, "example.com", 0},
      {"mx.example.org; dkim=permerror (no key for signature) header.i=@sub.example.com",
       DkimResult::kPermerror, DkimReason::kKeyNotFound, DkimAlgorithm::kOther, "sub.example.com",
       0},
      {"mx.example.org; dkim=policy reason=\"too few key bits\" header.d=example.com",
       DkimResult::kPermerror, DkimReason::kKeyTooSmall, DkimAlgorithm::kOther, "example.com", 0},
      {"mx.example.org; dkim=neutral reason=\"key revoked\" header.d=example.com",
       DkimResult::kPermerror, DkimReason::kKeyRevoked, DkimAlgorithm::kOther, "example.com", 0},
      {"mx.example.org; dkim=neutral header.d=example.com", DkimResult::kPermerror,
       DkimReason::kSyntax, DkimAlgorithm::kOther, "example.com", 0},
      {"mx.example.org; dkim=temperror (key query timeout) header.d=example.com",
       DkimResult::kTemperror, DkimReason::kOther, DkimAlgorithm::kOther, "example.com", 0},
      {"mx.example.org; dkim=fail (signature expired) header.d=example.com header.a=rsa-sha1",
       DkimResult::kFail, DkimReason::kExpired, DkimAlgorithm::kRsaSha1, "example.com", 0},
      // rspamd
      {"mx.example.org; dkim=pass header.d=example.com header.s=dkim header.b=\"abc\"",
       DkimResult::kPass, DkimReason::kNone, DkimAlgorithm::kOther, "example.com", 0},
      // comments everywhere CFWS may be
      {"(c) mx.example.org (v) 1 (x); (y) dkim (z) = (w) pass (q) header.d (r) = example.com",
       DkimResult::kPass, DkimReason::kNone, DkimAlgorithm::kOther, "example.com", 0},
      {"\"MX.example.org\"; dkim/1=pass header.d=example.com", DkimResult::kPass, DkimReason::kNone,
       DkimAlgorithm::kOther, "example.com", 0},
  };
  for (const DkimCase& c : kCases) {
    SCOPED_TRACE(c.field);
    std::size_t ignored = 0;
    const auto got = read({c.field}, ignored);
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(ignored, 0u);
    EXPECT_EQ(got->source, VerdictSource::kAuthenticationResults);
    ASSERT_EQ(got->dkim.size(), 1u);
    const DkimVerdict& v = got->dkim[0];
    EXPECT_EQ(v.result, c.result) << "got " << toLabel(v.result);
    EXPECT_EQ(v.reason, c.reason) << "got " << toLabel(v.reason);
    EXPECT_EQ(v.algorithm, c.algorithm) << "got " << toLabel(v.algorithm);
    EXPECT_EQ(v.domain, c.domain);
    EXPECT_EQ(v.key_bits, c.key_bits);
    EXPECT_TRUE(got->records.empty());
  }
}

TEST(AuthenticationResults, RspamdFieldWithAllThreeMethods) {
  std::size_t ignored = 0;
  const auto got = read({"mx.example.org;\r\n\tdkim=pass header.d=example.com header.s=dkim "
                         "header.b=Xy;\r\n\tdkim=fail header.d=other.test;\r\n\tspf=pass "
                         "(mx.example.org: domain of alice@example.com designates 192.0.2.1 as "
                         "permitted sender) smtp.mailfrom=alice@Example.com;\r\n\tdmarc=pass "
                         "(policy=reject) header.from=example.com"},
                        ignored);
  ASSERT_TRUE(got.has_value());
  ASSERT_EQ(got->dkim.size(), 2u);
  EXPECT_EQ(got->dkim[1].result, DkimResult::kFail);
  EXPECT_EQ(got->dkim[1].domain, "other.test");
  ASSERT_TRUE(got->spf.has_value());
  EXPECT_EQ(got->spf->result, SpfResult::kPass);
  EXPECT_EQ(got->spf->identity, SpfIdentity::kMailFrom);
  EXPECT_EQ(got->spf->domain, "example.com");
  ASSERT_TRUE(got->dmarc.has_value());
  EXPECT_EQ(got->dmarc->result, DmarcResult::kPass);
  EXPECT_EQ(got->dmarc->policy, DmarcPolicy::kReject);
  EXPECT_EQ(got->dmarc->from_domain, "example.com");
  EXPECT_EQ(authMethod(*got), AuthMethod::kDkimAndSpf);
}

TEST(AuthenticationResults, SeparateFieldsFromOpenDkimOpenDmarcAndPolicydSpf) {
  std::size_t ignored = 0;
  const auto got = read({"mx.example.org; dmarc=fail (p=quarantine dis=quarantine) "
                         "header.from=example.com",
                         "mx.example.org; dkim=fail reason=\"signature verification failed\" "
                         "header.d=example.com",
                         "mx.example.org; spf=softfail smtp.helo=mail.example.com"},
                        ignored);
  ASSERT_TRUE(got.has_value());
  ASSERT_TRUE(got->dmarc.has_value());
  EXPECT_EQ(got->dmarc->result, DmarcResult::kFail);
  EXPECT_EQ(got->dmarc->policy, DmarcPolicy::kQuarantine);
  ASSERT_EQ(got->dkim.size(), 1u);
  ASSERT_TRUE(got->spf.has_value());
  EXPECT_EQ(got->spf->result, SpfResult::kSoftfail);
  EXPECT_EQ(got->spf->identity, SpfIdentity::kHelo);
  EXPECT_EQ(got->spf->domain, "mail.example.com");
}

TEST(AuthenticationResults, UntrustedFieldsAreIgnoredAndCounted) {
  std::size_t ignored = 0;
  // A sender's forged field claiming a pass, and one that only resembles the trusted id.
  EXPECT_FALSE(read({"evil.example; dkim=pass header.d=bank.example",
                     "mx.example.org.evil.example; spf=pass smtp.mailfrom=a@bank.example"},
                    ignored)
                   .has_value());
  EXPECT_EQ(ignored, 2u);

  ignored = 0;
  const auto got = read({"mx.example.org; dkim=fail header.d=bank.example",
                         "evil.example; dkim=pass header.d=bank.example"},
                        ignored);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(ignored, 1u);
  ASSERT_EQ(got->dkim.size(), 1u);
  EXPECT_EQ(got->dkim[0].result, DkimResult::kFail);

  ignored = 0;
  EXPECT_FALSE(readAuthenticationResults(std::vector<std::string_view>{"mx.example.org; "
                                                                       "dkim=pass"},
                                         {}, ignored)
                   .has_value())
      << "no trusted ids: nothing is trusted";
  EXPECT_EQ(ignored, 1u);
}

TEST(AuthenticationResults, TopmostTrustedFieldWins) {
  std::size_t ignored = 0;
  const auto got = read({"mx.example.org; dkim=none; spf=fail smtp.mailfrom=a@x.test",
                         "mx.example.org; dkim=pass header.d=x.test; spf=pass "
                         "smtp.mailfrom=a@x.test"},
                        ignored);
  ASSERT_TRUE(got.has_value());
  EXPECT_TRUE(got->dkim.empty()) << "the newest field said dkim=none";
  ASSERT_TRUE(got->spf.has_value());
  EXPECT_EQ(got->spf->result, SpfResult::kFail);
}

TEST(AuthenticationResults, NoResultAndMalformedFields) {
  std::size_t ignored = 0;
  const auto none = read({"mx.example.org 1; none"}, ignored);
  ASSERT_TRUE(none.has_value());
  EXPECT_TRUE(none->dkim.empty());
  EXPECT_FALSE(none->spf.has_value());
  EXPECT_FALSE(none->dmarc.has_value());

  const char* kMalformed[] = {
      "",
      ";",
      "   (unterminated comment",
      "mx.example.org; dkim=",
      "mx.example.org; dkim=pass (unterminated",
      "mx.example.org; dkim=\"unterminated",
      "mx.example.org; =pass; ;;; dkim pass; spf=bogus; dmarc=weird",
      "mx.example.org; dkim=pass header.d=\"a\\\"b\" ((((((((((deep))))))))))",
      ")mx.example.org; dkim=pass",
  };
  for (const char* field : kMalformed) {
    SCOPED_TRACE(field);
    std::size_t count = 0;
    const auto got = read({field}, count);
    if (got) {
      EXPECT_LE(got->dkim.size(), 1u);
      EXPECT_FALSE(got->spf.has_value());
    }
  }
}

TEST(AuthenticationResults, BoundedWork) {
  std::string many = "mx.example.org";
  for (int i = 0; i < 200; ++i) many += "; dkim=pass header.d=d" + std::to_string(i) + ".test";
  std::vector<std::string_view> fields(100, many);
  std::size_t ignored = 0;
  const auto got = read(fields, ignored);
  ASSERT_TRUE(got.has_value());
  EXPECT_LE(got->dkim.size(), 16u);
  EXPECT_EQ(ignored, 100u - 32u) << "fields past the first 32 are not read";
}

TEST(AuthenticationResults, AuthservId) {
  EXPECT_EQ(authservId(" (c) Mx.Example.ORG; dkim=pass"), "mx.example.org");
  EXPECT_EQ(authservId("\"quoted.example\" 1; none"), "quoted.example");
  EXPECT_FALSE(authservId("; dkim=pass").has_value());
}

}  // namespace
}  // namespace mailsec::core::auth
