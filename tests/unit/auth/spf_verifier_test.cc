// spf_verifier_test.cc — checkSpf over a fake resolver: results, error classes, identities,
// records and their DNSSEC status, and the inputs that must never reach libspf2.
#include "core/auth/spf_verifier.h"

#include <gtest/gtest.h>

#include "tests/unit/auth/fake_resolver.h"

namespace mailsec::core::auth {
namespace {

using testing::FakeResolver;

struct SpfCase {
  const char* name;
  const char* record;  // at example.org; nullptr: no TXT record
  const char* client;
  SpfResult want_result;
  SpfError want_error;
};

void world(FakeResolver& dns) {
  dns.a("mx.example.org", {{{192, 0, 2, 25}}});
  FakeResolver::DnsAnswer mx;
  mx.status = DnsStatus::kAnswer;
  mx.rdata = {
      std::string("\x00\x0a\x02mx\x07"
                  "example\x03org\x00",
                  18)};
  dns.set("mxhost.example.org", rrtype::kMx, mx);
  dns.txt("inc.example.org", {"v=spf1 ip4:198.51.100.0/24 -all"});
  dns.txt("softinc.example.org", {"v=spf1 ~all"});
  dns.txt("broken.example.org", {"v=spf1 ip4:300.1.1.1 -all"});
  dns.fail("slow.example.org", DnsStatus::kTimeout);
  dns.fail("servfail.example.org", DnsStatus::kServFail);
  for (int i = 0; i < 12; ++i) {
    dns.txt("l" + std::to_string(i) + ".example.org",
            {"v=spf1 include:l" + std::to_string(i + 1) + ".example.org ?all"});
  }
}

TEST(CheckSpf, ResultsAndErrorClasses) {
  const SpfCase cases[] = {
      {"ip4 pass", "v=spf1 ip4:192.0.2.0/24 -all", "192.0.2.7", SpfResult::kPass, SpfError::kNone},
      {"ip4 fail", "v=spf1 ip4:192.0.2.0/24 -all", "203.0.113.9", SpfResult::kFail,
       SpfError::kNone},
      {"softfail", "v=spf1 ~all", "203.0.113.9", SpfResult::kSoftfail, SpfError::kNone},
      {"neutral", "v=spf1 ?all", "203.0.113.9", SpfResult::kNeutral, SpfError::kNone},
      {"mx pass", "v=spf1 mx:mxhost.example.org -all", "192.0.2.25", SpfResult::kPass,
       SpfError::kNone},
      {"a pass", "v=spf1 a:mx.example.org -all", "192.0.2.25", SpfResult::kPass, SpfError::kNone},
      {"include pass", "v=spf1 include:inc.example.org -all", "198.51.100.4", SpfResult::kPass,
       SpfError::kNone},
      {"redirect", "v=spf1 redirect=softinc.example.org", "203.0.113.9", SpfResult::kSoftfail,
       SpfError::kNone},
      {"ipv6", "v=spf1 ip6:2001:db8::/32 -all", "2001:db8::1", SpfResult::kPass, SpfError::kNone},
      {"v4-mapped", "v=spf1 ip4:192.0.2.0/24 -all", "::ffff:192.0.2.7", SpfResult::kPass,
       SpfError::kNone},
      {"no record", nullptr, "192.0.2.7", SpfResult::kNone, SpfError::kNone},
      {"unknown mechanism", "v=spf1 foo:bar -all", "192.0.2.7", SpfResult::kPermerror,
       SpfError::kInvalidRecord},
      {"bad ip4", "v=spf1 ip4:300.1.1.1 -all", "192.0.2.7", SpfResult::kPermerror,
       SpfError::kInvalidRecord},
      {"include of a timeout", "v=spf1 include:slow.example.org -all", "192.0.2.7",
       SpfResult::kTemperror, SpfError::kDnsTimeout},
      {"include of a servfail", "v=spf1 include:servfail.example.org -all", "192.0.2.7",
       SpfResult::kTemperror, SpfError::kDnsTemporary},
      {"too many includes", "v=spf1 include:l0.example.org -all", "192.0.2.7",
       SpfResult::kPermerror, SpfError::kTooManyLookups},
  };
  for (const auto& c : cases) {
    FakeResolver dns;
    world(dns);
    if (c.record != nullptr) dns.txt("example.org", {c.record, "google-site-verification=x"});
    std::vector<RecordFetch> records;
    const auto verdict =
        checkSpf(dns, SpfRequest{c.client, "mail.example.net", "alice@Example.ORG"}, records);
    ASSERT_TRUE(verdict.has_value()) << c.name;
    EXPECT_EQ(toLabel(verdict->result), toLabel(c.want_result)) << c.name;
    EXPECT_EQ(toLabel(verdict->error), toLabel(c.want_error)) << c.name;
    EXPECT_EQ(verdict->identity, SpfIdentity::kMailFrom) << c.name;
    EXPECT_EQ(verdict->domain, "example.org") << c.name;
  }
}

TEST(CheckSpf, TwoSpfRecordsAreAnInvalidRecord) {
  FakeResolver dns;
  dns.txt("example.org", {"v=spf1 -all", "v=spf1 +all"});
  std::vector<RecordFetch> records;
  const auto verdict = checkSpf(dns, {"192.0.2.7", "h.example.net", "a@example.org"}, records);
  ASSERT_TRUE(verdict);
  EXPECT_EQ(verdict->result, SpfResult::kPermerror);
  EXPECT_EQ(verdict->error, SpfError::kInvalidRecord);
}

TEST(CheckSpf, TimeoutOfTheRecordItself) {
  FakeResolver dns;
  dns.fail("example.org", DnsStatus::kTimeout);
  std::vector<RecordFetch> records;
  const auto verdict = checkSpf(dns, {"192.0.2.7", "h.example.net", "a@example.org"}, records);
  ASSERT_TRUE(verdict);
  EXPECT_EQ(verdict->result, SpfResult::kTemperror);
  EXPECT_EQ(verdict->error, SpfError::kDnsTimeout);
}

TEST(CheckSpf, EmptyMailFromChecksHelo) {
  FakeResolver dns;
  dns.txt("mail.example.net", {"v=spf1 ip4:192.0.2.7 -all"});
  std::vector<RecordFetch> records;
  const auto verdict = checkSpf(dns, {"192.0.2.7", "Mail.Example.NET", ""}, records);
  ASSERT_TRUE(verdict);
  EXPECT_EQ(verdict->result, SpfResult::kPass);
  EXPECT_EQ(verdict->identity, SpfIdentity::kHelo);
  EXPECT_EQ(verdict->domain, "mail.example.net");
}

TEST(CheckSpf, RecordsFetchedWithTheirDnssecStatus) {
  FakeResolver dns;
  dns.txt("example.org", {"v=spf1 include:inc.example.org -all"}, Dnssec::kSecure);
  dns.txt("inc.example.org", {"v=spf1 ip4:198.51.100.0/24 -all"}, Dnssec::kInsecure);
  std::vector<RecordFetch> records;
  ASSERT_TRUE(checkSpf(dns, {"198.51.100.4", "h.example.net", "a@example.org"}, records));
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].record, AuthRecord::kSpf);
  EXPECT_EQ(records[0].dnssec, Dnssec::kSecure);
  EXPECT_EQ(records[1].dnssec, Dnssec::kInsecure);
  // Only TXT is asked for the record: the obsolete SPF type (99) never goes to DNS.
  for (const auto& [name, type] : dns.asked()) EXPECT_NE(type, 99) << name;
}

TEST(CheckSpf, BogusRecordIsCountedAndTemporary) {
  FakeResolver dns;
  dns.fail("example.org", DnsStatus::kServFail, Dnssec::kBogus);
  std::vector<RecordFetch> records;
  const auto verdict = checkSpf(dns, {"192.0.2.7", "h.example.net", "a@example.org"}, records);
  ASSERT_TRUE(verdict);
  EXPECT_EQ(verdict->result, SpfResult::kTemperror);
  EXPECT_EQ(verdict->error, SpfError::kDnsTemporary);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].dnssec, Dnssec::kBogus);
}

TEST(CheckSpf, InputsThatNeverReachLibspf2) {
  FakeResolver dns;
  dns.txt("example.org", {"v=spf1 +all"});
  std::vector<RecordFetch> records;
  // Loopback clients: libspf2 would pass them without looking; not evaluated.
  EXPECT_FALSE(checkSpf(dns, {"127.0.0.1", "h.example.net", "a@example.org"}, records));
  EXPECT_FALSE(checkSpf(dns, {"::1", "h.example.net", "a@example.org"}, records));
  EXPECT_FALSE(checkSpf(dns, {"", "h.example.net", "a@example.org"}, records));
  EXPECT_FALSE(checkSpf(dns, {"not an address", "h.example.net", "a@example.org"}, records));
  // Unusable identities: none, without a lookup.
  for (const char* from : {"a@", "a@.", "a@exa mple.org", "a@-", "a@localhost", "a@[192.0.2.1]"}) {
    const auto verdict = checkSpf(dns, {"192.0.2.7", "h.example.net", from}, records);
    ASSERT_TRUE(verdict) << from;
    EXPECT_EQ(verdict->result, SpfResult::kNone) << from;
  }
  const auto helo_literal = checkSpf(dns, {"192.0.2.7", "[192.0.2.7]", ""}, records);
  ASSERT_TRUE(helo_literal);
  EXPECT_EQ(helo_literal->result, SpfResult::kNone);
  EXPECT_EQ(dns.queries(), 0);
}

TEST(CheckSpf, HostileLocalPartsAndMacros) {
  FakeResolver dns;
  dns.txt("example.org", {"v=spf1 exists:%{l}.%{s}.%{h}.%{i}.%{p}.%{v}.%{ir}.%{l1r-}.x.example.org "
                          "exists:%{d999r}.%{o}.example.org -all exp=%{l}.example.org"});
  std::vector<RecordFetch> records;
  for (const std::string& local :
       {std::string(64, 'a'), std::string("a\x01\x7f\tb"), std::string("%{l}%%%_%-"),
        std::string("....."), std::string("a-b-c-d-e-f-g-h-i-j-k-l-m-n-o-p")}) {
    const auto verdict =
        checkSpf(dns, {"192.0.2.7", "h.example.net", local + "@example.org"}, records);
    ASSERT_TRUE(verdict);
    EXPECT_TRUE(verdict->result == SpfResult::kFail || verdict->result == SpfResult::kPermerror)
        << local;
  }
}

TEST(CheckSpf, ExplanationRecordsAreNeverFetched) {
  // exp= targets are sender-controlled macro strings (the fuzzer's stack overflow in
  // SPF_record_compile_macro, docs/auth.md); mailsec never needs an explanation.
  FakeResolver dns;
  dns.txt("example.org", {"v=spf1 -all exp=explain.example.org"});
  dns.txt("explain.example.org", {std::string(600, 'x') + " %{l} %{s}"});
  std::vector<RecordFetch> records;
  const auto verdict = checkSpf(dns, {"192.0.2.7", "h.example.net", "a@example.org"}, records);
  ASSERT_TRUE(verdict);
  EXPECT_EQ(verdict->result, SpfResult::kFail);
  for (const auto& [name, type] : dns.asked()) EXPECT_NE(name, "explain.example.org");
}

TEST(PlausibleDomain, Table) {
  EXPECT_TRUE(plausibleDomain("example.org"));
  EXPECT_TRUE(plausibleDomain("_spf.x-y.example.org"));
  EXPECT_FALSE(plausibleDomain("org"));
  EXPECT_FALSE(plausibleDomain("a..b"));
  EXPECT_FALSE(plausibleDomain(std::string(64, 'a') + ".org"));
  EXPECT_FALSE(plausibleDomain(std::string(300, 'a')));
  EXPECT_EQ(mailboxDomain("a@b@Example.ORG."), "example.org");
  EXPECT_EQ(mailboxDomain("postmaster"), "");
}

}  // namespace
}  // namespace mailsec::core::auth
