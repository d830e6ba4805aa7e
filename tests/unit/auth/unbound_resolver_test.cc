// unbound_resolver_test.cc — UnboundResolver against a fake authoritative server on loopback:
// status mapping, DNSSEC off/on, reverse lookups of documentation ranges reaching the
// forwarder, the per-lookup deadline, recovery from an outage within seconds, and the start-up
// DNSSEC probe (a forwarder without signatures, a silent one, validation off).
#include "core/auth/unbound_resolver.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "tests/unit/auth/fake_dns_server.h"

namespace mailsec::core::auth {
namespace {

using testing::FakeDnsServer;

class UnboundResolverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.add("example.test", rrtype::kTxt, FakeDnsServer::txt("v=spf1 -all"));
    server_.add("example.test", rrtype::kTxt, FakeDnsServer::txt("other"));
    server_.add("example.test", rrtype::kA, std::string("\xc0\x00\x02\x01", 4));
    server_.add("1.2.0.192.in-addr.arpa", rrtype::kPtr,
                std::string("\x04mail\x07"
                            "example\x04test\x00",
                            19));
    for (int i = 0; i < 64; ++i) {
      server_.add("n" + std::to_string(i) + ".example.test", rrtype::kTxt, FakeDnsServer::txt("n"));
    }
    server_.start();
  }

  std::unique_ptr<UnboundResolver> make(bool validate, std::uint32_t timeout_ms = 1500) {
    ResolverOptions options;
    options.forwarders = {server_.forwarder()};
    options.dnssec_validate = validate;
    options.timeout_ms = timeout_ms;
    std::string error;
    auto resolver = UnboundResolver::create(options, error);
    EXPECT_NE(resolver, nullptr) << error;
    return resolver;
  }

  FakeDnsServer server_;
};

TEST_F(UnboundResolverTest, MapsStatusesWithValidationOff) {
  auto resolver = make(false);
  ASSERT_NE(resolver, nullptr);
  const auto txt = resolver->query("example.test", rrtype::kTxt);
  EXPECT_EQ(txt.status, DnsStatus::kAnswer);
  EXPECT_EQ(txt.dnssec, Dnssec::kUnknown);
  EXPECT_EQ(txt.rcode, 0);
  EXPECT_FALSE(txt.packet.empty());
  const auto records = txtRecords(txt);
  ASSERT_EQ(records.size(), 2u);
  EXPECT_TRUE(records[0] == "v=spf1 -all" || records[1] == "v=spf1 -all");

  EXPECT_EQ(resolver->query("example.test", rrtype::kMx).status, DnsStatus::kNoData);
  const auto nx = resolver->query("missing.example.test", rrtype::kTxt);
  EXPECT_EQ(nx.status, DnsStatus::kNxDomain);
  EXPECT_EQ(nx.rcode, 3);
  EXPECT_EQ(resolver->query("", rrtype::kTxt).status, DnsStatus::kError);
  EXPECT_EQ(resolver->query(std::string(300, 'a'), rrtype::kTxt).status, DnsStatus::kError);
}

TEST_F(UnboundResolverTest, ReverseLookupsOfDocumentationRangesReachTheForwarder) {
  auto resolver = make(false);
  ASSERT_NE(resolver, nullptr);
  const auto ptr = resolver->query("1.2.0.192.in-addr.arpa", rrtype::kPtr);
  EXPECT_EQ(ptr.status, DnsStatus::kAnswer);
  ASSERT_EQ(ptr.rdata.size(), 1u);
}

TEST_F(UnboundResolverTest, UnsignedZoneUnderTheRootAnchorIsNotSecure) {
  // The fake server cannot prove the root's keys, so validation cannot succeed: the answer
  // must never be reported secure (libunbound calls it bogus).
  auto resolver = make(true);
  ASSERT_NE(resolver, nullptr);
  const auto txt = resolver->query("example.test", rrtype::kTxt);
  EXPECT_NE(txt.dnssec, Dnssec::kSecure);
  EXPECT_NE(txt.dnssec, Dnssec::kUnknown);
}

// The fake server serves no root and no signatures, as a forwarder that strips RRSIGs: the
// start-up probe finds ". DNSKEY" bogus and the resolver comes back without validation.
TEST_F(UnboundResolverTest, ProbeOfAForwarderWithoutSignaturesTurnsValidationOff) {
  ResolverOptions options;
  options.forwarders = {server_.forwarder()};
  DnssecProbe probe;
  std::string error;
  auto resolver = UnboundResolver::createProbed(options, probe, error);
  ASSERT_NE(resolver, nullptr) << error;
  EXPECT_EQ(probe.outcome, DnssecProbe::Outcome::kUnsigned);
  EXPECT_FALSE(probe.why_bogus.empty());
  EXPECT_EQ(probe.forwarders, server_.forwarder());
  EXPECT_FALSE(resolver->validating());
  const auto message = dnssecProbeMessage(probe, UnboundResolver::kProbeTimeoutMs);
  EXPECT_NE(message.find("dns: the resolver(s) " + server_.forwarder() +
                         " return no DNSSEC signatures (\". DNSKEY\" is bogus: " + probe.why_bogus +
                         "); DNSSEC validation is off"),
            std::string::npos)
      << message;
  const auto txt = resolver->query("example.test", rrtype::kTxt);
  EXPECT_EQ(txt.status, DnsStatus::kAnswer);
  EXPECT_EQ(txt.dnssec, Dnssec::kUnknown);
}

// No answer at all teaches nothing about signatures: validation stays on.
TEST_F(UnboundResolverTest, ProbeOfASilentForwarderLeavesValidationOn) {
  server_.setSilent(true);
  ResolverOptions options;
  options.forwarders = {server_.forwarder()};
  DnssecProbe probe;
  std::string error;
  const auto start = std::chrono::steady_clock::now();
  auto resolver = UnboundResolver::createProbed(options, probe, error, 300);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(1500));
  ASSERT_NE(resolver, nullptr) << error;
  EXPECT_EQ(probe.outcome, DnssecProbe::Outcome::kUnreachable);
  EXPECT_TRUE(resolver->validating());
  EXPECT_NE(dnssecProbeMessage(probe, 300)
                .find("no answer from the resolver(s) " + server_.forwarder() + " within 300 ms"),
            std::string::npos);
}

TEST_F(UnboundResolverTest, NoProbeWithValidationOff) {
  ResolverOptions options;
  options.forwarders = {server_.forwarder()};
  options.dnssec_validate = false;
  DnssecProbe probe;
  std::string error;
  auto resolver = UnboundResolver::createProbed(options, probe, error);
  ASSERT_NE(resolver, nullptr) << error;
  EXPECT_EQ(probe.outcome, DnssecProbe::Outcome::kNotRun);
  EXPECT_EQ(server_.queries(), 0);
  EXPECT_EQ(dnssecProbeMessage(probe, UnboundResolver::kProbeTimeoutMs), "");
}

TEST_F(UnboundResolverTest, MissingTrustAnchorIsAStartUpError) {
  ResolverOptions options;
  options.forwarders = {server_.forwarder()};
  options.trust_anchor_files = {"/nonexistent/ta.ds"};
  std::string error;
  EXPECT_EQ(UnboundResolver::create(options, error), nullptr);
  EXPECT_NE(error.find("/nonexistent/ta.ds"), std::string::npos) << error;
}

TEST_F(UnboundResolverTest, BadForwarderIsAStartUpError) {
  ResolverOptions options;
  options.forwarders = {"localhost@53"};
  std::string error;
  EXPECT_EQ(UnboundResolver::create(options, error), nullptr);
  EXPECT_EQ(validateForwarder("127.0.0.1@5353"), "");
  EXPECT_EQ(validateForwarder("::1"), "");
  EXPECT_NE(validateForwarder("127.0.0.1@0"), "");
  EXPECT_NE(validateForwarder("127.0.0.1@"), "");
}

TEST_F(UnboundResolverTest, SilentServerTimesOutWithinTheDeadline) {
  auto resolver = make(false, 300);
  ASSERT_NE(resolver, nullptr);
  server_.setSilent(true);
  const auto start = std::chrono::steady_clock::now();
  const auto answer = resolver->query("n1.example.test", rrtype::kTxt);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(answer.status, DnsStatus::kTimeout);
  EXPECT_LT(elapsed, std::chrono::milliseconds(1000));
}

TEST_F(UnboundResolverTest, OutageThenRecoveryAnswersAgainWithinSeconds) {
  auto resolver = make(false, 400);
  ASSERT_NE(resolver, nullptr);
  ASSERT_EQ(resolver->query("n0.example.test", rrtype::kTxt).status, DnsStatus::kAnswer);
  server_.setSilent(true);
  // Enough failed lookups that libunbound marks its only forwarder down.
  for (int i = 1; i <= 8; ++i) {
    const auto status =
        resolver->query("n" + std::to_string(i) + ".example.test", rrtype::kTxt).status;
    EXPECT_TRUE(status == DnsStatus::kTimeout || status == DnsStatus::kServFail);
  }
  server_.setSilent(false);
  const auto recovered = std::chrono::steady_clock::now();
  int name = 20;
  DnsStatus status = DnsStatus::kError;
  while (std::chrono::steady_clock::now() - recovered < std::chrono::seconds(20)) {
    status = resolver->query("n" + std::to_string(name++) + ".example.test", rrtype::kTxt).status;
    if (status == DnsStatus::kAnswer) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  const auto took = std::chrono::steady_clock::now() - recovered;
  EXPECT_EQ(status, DnsStatus::kAnswer);
  EXPECT_LT(took, std::chrono::seconds(5))
      << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms";
}

TEST_F(UnboundResolverTest, ManyThreadsAtOnce) {
  auto resolver = make(false);
  ASSERT_NE(resolver, nullptr);
  std::atomic<int> answers{0};
  {
    std::vector<std::jthread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < 50; ++i) {
          const auto a =
              resolver->query("n" + std::to_string((i + t) % 64) + ".example.test", rrtype::kTxt);
          if (a.status == DnsStatus::kAnswer) ++answers;
        }
      });
    }
  }
  EXPECT_EQ(answers, 200);
}

}  // namespace
}  // namespace mailsec::core::auth
