// dmarc_verifier_test.cc — checkDmarc over a fake resolver with the real public suffix list:
// results, policies (p, sp), pct, alignment (relaxed, strict), the organisational-domain
// fallback, DNS failures, records and their DNSSEC status; fromHeaderDomain.
#include "core/auth/dmarc_verifier.h"

#include <gtest/gtest.h>

#include "tests/unit/auth/fake_resolver.h"

namespace mailsec::core::auth {
namespace {

using testing::FakeResolver;

const DmarcLibrary& library() {
  static const DmarcLibrary instance;
  return instance;
}

SpfVerdict spf(SpfResult result, std::string domain) {
  SpfVerdict v;
  v.result = result;
  v.domain = std::move(domain);
  return v;
}

DkimVerdict dkim(DkimResult result, std::string domain) {
  DkimVerdict v;
  v.result = result;
  v.reason = result == DkimResult::kPass ? DkimReason::kNone : DkimReason::kBodyHashMismatch;
  v.domain = std::move(domain);
  return v;
}

struct DmarcCase {
  const char* name;
  const char* from;
  std::optional<SpfVerdict> spf;
  std::vector<DkimVerdict> dkim;
  DmarcResult want_result;
  DmarcPolicy want_policy;
  bool want_partial;
};

TEST(CheckDmarc, ResultsPoliciesAndAlignment) {
  ASSERT_TRUE(library().hasSuffixList());
  const DmarcCase cases[] = {
      {"spf aligned",
       "example.org",
       spf(SpfResult::kPass, "example.org"),
       {},
       DmarcResult::kPass,
       DmarcPolicy::kReject,
       false},
      {"spf relaxed subdomain",
       "example.org",
       spf(SpfResult::kPass, "bounce.example.org"),
       {},
       DmarcResult::kPass,
       DmarcPolicy::kReject,
       false},
      {"spf pass unaligned",
       "example.org",
       spf(SpfResult::kPass, "other.net"),
       {},
       DmarcResult::kFail,
       DmarcPolicy::kReject,
       false},
      {"spf fail aligned",
       "example.org",
       spf(SpfResult::kFail, "example.org"),
       {},
       DmarcResult::kFail,
       DmarcPolicy::kReject,
       false},
      {"dkim aligned",
       "example.org",
       spf(SpfResult::kFail, "other.net"),
       {dkim(DkimResult::kPass, "example.org")},
       DmarcResult::kPass,
       DmarcPolicy::kReject,
       false},
      {"dkim fail aligned",
       "example.org",
       std::nullopt,
       {dkim(DkimResult::kFail, "example.org")},
       DmarcResult::kFail,
       DmarcPolicy::kReject,
       false},
      {"dkim pass of another domain",
       "example.org",
       std::nullopt,
       {dkim(DkimResult::kPass, "other.net"), dkim(DkimResult::kFail, "example.org")},
       DmarcResult::kFail,
       DmarcPolicy::kReject,
       false},
      {"strict spf, subdomain",
       "strict.example",
       spf(SpfResult::kPass, "mail.strict.example"),
       {},
       DmarcResult::kFail,
       DmarcPolicy::kQuarantine,
       false},
      {"strict spf, exact",
       "strict.example",
       spf(SpfResult::kPass, "strict.example"),
       {},
       DmarcResult::kPass,
       DmarcPolicy::kQuarantine,
       false},
      {"pct 50",
       "partial.example",
       spf(SpfResult::kFail, "partial.example"),
       {},
       DmarcResult::kFail,
       DmarcPolicy::kReject,
       true},
      {"p=none",
       "monitor.example",
       spf(SpfResult::kSoftfail, "monitor.example"),
       {},
       DmarcResult::kFail,
       DmarcPolicy::kNone,
       false},
      {"subdomain: sp of the organisational domain",
       "mail.example.org",
       spf(SpfResult::kFail, "mail.example.org"),
       {},
       DmarcResult::kFail,
       DmarcPolicy::kQuarantine,
       false},
      {"subdomain with its own record",
       "own.example.org",
       spf(SpfResult::kFail, "x.net"),
       {},
       DmarcResult::kFail,
       DmarcPolicy::kNone,
       false},
      {"no record",
       "nodmarc.example",
       spf(SpfResult::kPass, "nodmarc.example"),
       {},
       DmarcResult::kNone,
       DmarcPolicy::kAbsent,
       false},
      {"two records",
       "two.example",
       spf(SpfResult::kPass, "two.example"),
       {},
       DmarcResult::kNone,
       DmarcPolicy::kAbsent,
       false},
      {"bad record",
       "bad.example",
       spf(SpfResult::kPass, "bad.example"),
       {},
       DmarcResult::kNone,
       DmarcPolicy::kAbsent,
       false},
      {"timeout",
       "slow.example",
       spf(SpfResult::kPass, "slow.example"),
       {},
       DmarcResult::kTemperror,
       DmarcPolicy::kAbsent,
       false},
      {"public suffix fallback stops at co.uk",
       "shop.example.co.uk",
       spf(SpfResult::kPass, "shop.example.co.uk"),
       {},
       DmarcResult::kPass,
       DmarcPolicy::kQuarantine,
       false},
  };
  for (const auto& c : cases) {
    FakeResolver dns;
    dns.txt("_dmarc.example.org", {"v=DMARC1; p=reject; sp=quarantine; rua=mailto:x@example.org"});
    dns.txt("_dmarc.own.example.org", {"v=DMARC1; p=none"});
    dns.txt("_dmarc.strict.example", {"v=DMARC1; p=quarantine; aspf=s; adkim=s"});
    dns.txt("_dmarc.partial.example", {"v=DMARC1; p=reject; pct=50"});
    dns.txt("_dmarc.monitor.example", {"v=DMARC1;p=none"});
    dns.txt("_dmarc.two.example", {"v=DMARC1; p=reject", "v=DMARC1; p=none"});
    dns.txt("_dmarc.bad.example", {"v=DMARC1; p=bogus"});
    dns.txt("_dmarc.example.co.uk", {"v=DMARC1; p=quarantine"});
    dns.fail("_dmarc.slow.example", DnsStatus::kTimeout);
    DmarcInput input{c.from, "192.0.2.7", c.spf, c.dkim};
    std::vector<RecordFetch> records;
    const auto verdict = checkDmarc(dns, library(), input, records);
    ASSERT_TRUE(verdict) << c.name;
    EXPECT_EQ(toLabel(verdict->result), toLabel(c.want_result)) << c.name;
    EXPECT_EQ(toLabel(verdict->policy), toLabel(c.want_policy)) << c.name;
    EXPECT_EQ(verdict->partial, c.want_partial) << c.name;
    EXPECT_EQ(verdict->from_domain, c.from) << c.name;
  }
}

TEST(CheckDmarc, RecordsAndDnssec) {
  FakeResolver dns;
  dns.txt("_dmarc.example.org", {"v=DMARC1; p=reject"}, Dnssec::kSecure);
  dns.fail("_dmarc.bogus.example", DnsStatus::kServFail, Dnssec::kBogus);
  std::vector<RecordFetch> records;
  ASSERT_TRUE(checkDmarc(dns, library(), {"example.org", "192.0.2.7", std::nullopt, {}}, records));
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].record, AuthRecord::kDmarc);
  EXPECT_EQ(records[0].dnssec, Dnssec::kSecure);
  records.clear();
  const auto bogus =
      checkDmarc(dns, library(), {"bogus.example", "192.0.2.7", std::nullopt, {}}, records);
  ASSERT_TRUE(bogus);
  EXPECT_EQ(bogus->result, DmarcResult::kTemperror);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].dnssec, Dnssec::kBogus);
  // No record: nothing fetched, and the organisational domain is asked only once.
  records.clear();
  FakeResolver empty;
  ASSERT_TRUE(checkDmarc(empty, library(), {"a.b.example.org", "192.0.2.7", {}, {}}, records));
  EXPECT_TRUE(records.empty());
  EXPECT_EQ(empty.queries(), 2);
}

TEST(CheckDmarc, UnusableFromDomain) {
  FakeResolver dns;
  std::vector<RecordFetch> records;
  for (const char* from : {"", "org", "exa mple.org", "a..b"}) {
    EXPECT_FALSE(checkDmarc(dns, library(), {from, "192.0.2.7", {}, {}}, records)) << from;
  }
  EXPECT_EQ(dns.queries(), 0);
}

TEST(FromHeaderDomain, Table) {
  const std::pair<const char*, const char*> cases[] = {
      {" alice@Example.ORG", "example.org"},
      {" \"Alice (not a comment) <x@evil.example>\" <alice@example.org>", "example.org"},
      {" Alice <alice@example.org> (comment @ evil.example)", "example.org"},
      {" Alice\r\n <alice@example.org.>", "example.org"},
      {" a@example.org, b@example.net", ""},
      {" undisclosed-recipients:;", ""},
      {" Alice <alice@example.org", ""},
      {" <>", ""},
      {" alice", ""},
      {" Alice <alice@[192.0.2.1]>", ""},
      {" (unbalanced <a@example.org>", ""},
  };
  for (const auto& [value, want] : cases) EXPECT_EQ(fromHeaderDomain(value), want) << value;
}

TEST(DmarcLibrary, OrganizationalDomain) {
  EXPECT_EQ(library().organizationalDomain("mail.example.org"), "example.org");
  EXPECT_EQ(library().organizationalDomain("a.b.example.co.uk"), "example.co.uk");
  EXPECT_EQ(library().organizationalDomain("a.example.test"), "example.test");
}

}  // namespace
}  // namespace mailsec::core::auth
