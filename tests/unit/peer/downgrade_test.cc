#include "core/peer/downgrade.h"

#include <gtest/gtest.h>

#include <atomic>

#include "core/peer/peer_analyser.h"
#include "fakes/recording_recorder.h"

namespace mailsec::core::peer {
namespace {

constexpr std::int64_t kDay = 86400;
constexpr std::int64_t kStart = 20000 * kDay + 3600;  // a fixed UTC day, 01:00

TEST(Downgrade, TlsPeerThresholds) {
  const DowngradeThresholds t{20, 0.99, 30};
  struct Case {
    std::uint64_t sessions, tls;
    bool want;
  };
  const Case cases[] = {{0, 0, false},    {19, 19, false},   {20, 20, true},    {100, 99, true},
                        {100, 98, false}, {1000, 990, true}, {1000, 989, false}};
  for (const auto& c : cases) {
    EXPECT_EQ(isTlsPeer({c.sessions, c.tls}, t), c.want) << c.sessions << "/" << c.tls;
  }
}

TEST(Downgrade, SignalsOfOneSession) {
  const DowngradeThresholds t{20, 0.99, 30};
  SessionSummary s;
  s.identity = {"example.com", PeerDomainSource::kReverseDns};
  const TlsHistory tls_peer{50, 50};
  EXPECT_EQ(assessSession(s, tls_peer, t),
            std::vector<DowngradeSignal>{DowngradeSignal::kCleartextFromTlsPeer});
  s.tls = true;
  EXPECT_TRUE(assessSession(s, tls_peer, t).empty()) << "TLS now: no downgrade";
  s.tls = false;
  EXPECT_TRUE(assessSession(s, {50, 10}, t).empty()) << "a cleartext peer";
  s.identity.source = PeerDomainSource::kHelo;
  EXPECT_TRUE(assessSession(s, tls_peer, t).empty()) << "HELO is not trusted by default";
  s.starttls_masked = 2;
  s.starttls_truncated = 1;
  EXPECT_EQ(assessSession(s, {}, t),
            (std::vector<DowngradeSignal>{DowngradeSignal::kStarttlsMasked,
                                          DowngradeSignal::kStarttlsTruncated}));
}

TEST(PeerHistory, WindowSlidesWithTheDay) {
  PeerHistory h(30, 10);
  const PeerIdentity peer{"example.com", PeerDomainSource::kReverseDns};
  const Day today = 20000;
  ASSERT_TRUE(h.add(peer, today - 30, 100, 0));  // just outside the window
  ASSERT_TRUE(h.add(peer, today - 29, 10, 10));
  ASSERT_TRUE(h.add(peer, today, 5, 5));
  auto w = h.window(peer, today);
  EXPECT_EQ(w.sessions, 15u);
  EXPECT_EQ(w.tls_sessions, 15u);
  w = h.window(peer, today + 1);
  EXPECT_EQ(w.sessions, 5u);
  EXPECT_EQ(h.window({"example.com", PeerDomainSource::kHelo}, today).sessions, 0u)
      << "history is kept per identity source";
  h.prune(today + 30);
  EXPECT_EQ(h.peers(), 0u);
}

TEST(PeerHistory, BoundedPeers) {
  PeerHistory h(30, 2);
  EXPECT_TRUE(h.add({"a.com", PeerDomainSource::kReverseDns}, 1, 1, 1));
  EXPECT_TRUE(h.add({"b.com", PeerDomainSource::kReverseDns}, 1, 1, 1));
  EXPECT_FALSE(h.add({"c.com", PeerDomainSource::kReverseDns}, 1, 1, 1));
  EXPECT_TRUE(h.add({"a.com", PeerDomainSource::kReverseDns}, 2, 1, 1));
}

class PeerAnalyserTest : public ::testing::Test {
 protected:
  PeerAnalyserTest()
      : psl_(PublicSuffixList::parse("com\n")),
        history_(30, 1000),
        analyser_(psl_, DowngradeThresholds{20, 0.99, 30}, history_, sink_,
                  [this] { return now_.load(); }) {}

  void session(bool tls, const char* client_name = "mx1.example.com") {
    SessionSummary s;
    s.tls = tls;
    s.peer.client_name = client_name;
    analyser_.sessionClosed(s);
  }

  PublicSuffixList psl_;
  PeerHistory history_;
  testing::RecordingRecorder sink_;
  std::atomic<std::int64_t> now_{kStart};
  PeerAnalyser analyser_;
};

TEST_F(PeerAnalyserTest, CleartextAfterTwentyTlsSessionsIsSuspected) {
  for (int i = 0; i < 19; ++i) session(true);
  session(false);  // 19 TLS sessions: not yet a TLS peer
  EXPECT_TRUE(sink_.downgrades.empty());
  for (int i = 0; i < 100; ++i) session(true);
  session(false, "mx2.example.com");  // 119/120 TLS = 99.2%
  ASSERT_EQ(sink_.downgrades.size(), 1u);
  EXPECT_EQ(sink_.downgrades[0].signal, DowngradeSignal::kCleartextFromTlsPeer);
  EXPECT_EQ(sink_.downgrades[0].peer.domain, "example.com");
  EXPECT_EQ(sink_.downgrades[0].peer.source, PeerDomainSource::kReverseDns);
  ASSERT_EQ(sink_.sessions.size(), 121u);
  EXPECT_EQ(sink_.sessions.back().identity.domain, "example.com") << "sinks get the identity";
}

TEST_F(PeerAnalyserTest, HistoryOlderThanTheWindowIsForgotten) {
  for (int i = 0; i < 30; ++i) session(true);
  now_ += 30 * kDay;
  session(false);
  EXPECT_TRUE(sink_.downgrades.empty());
  EXPECT_EQ(history_.peers(), 1u) << "pruned, then the new session recorded";
}

TEST_F(PeerAnalyserTest, SeededHistoryCounts) {
  history_.add({"example.com", PeerDomainSource::kReverseDns}, dayOf(kStart) - 3, 500, 500);
  session(false);
  EXPECT_EQ(sink_.downgrades.size(), 1u);
}

TEST_F(PeerAnalyserTest, MaskedStarttlsIsSuspectedWithoutHistory) {
  SessionSummary s;
  s.starttls_masked = 1;
  s.peer.helo = "mx.example.com";
  analyser_.sessionClosed(s);
  ASSERT_EQ(sink_.downgrades.size(), 1u);
  EXPECT_EQ(sink_.downgrades[0].signal, DowngradeSignal::kStarttlsMasked);
  EXPECT_EQ(sink_.downgrades[0].peer.source, PeerDomainSource::kHelo);
  EXPECT_EQ(history_.peers(), 0u) << "HELO identities build no history";
}

TEST_F(PeerAnalyserTest, MessagesGetTheIdentityAndOtherCallsPassThrough) {
  MessageSummary m;
  m.peer.sender_domain = "lists.example.com";
  analyser_.messageReceived(m);
  analyser_.internalError(Component::kCore);
  ASSERT_EQ(sink_.messages.size(), 1u);
  EXPECT_EQ(sink_.messages[0].identity.domain, "example.com");
  EXPECT_EQ(sink_.messages[0].identity.source, PeerDomainSource::kSender);
  EXPECT_EQ(sink_.internal_errors.size(), 1u);
}

TEST_F(PeerAnalyserTest, VerdictsAndDropsGetTheIdentityOfTheirMessage) {
  MessageSummary a;
  a.verdicts_follow = true;
  a.peer.client_name = "mx1.alpha.com";
  MessageSummary b;
  b.verdicts_follow = true;
  b.peer.client_name = "unknown";
  b.peer.helo = "relay.beta.com";
  auth::AuthVerdicts v;
  v.spf = auth::SpfVerdict{auth::SpfResult::kPass, auth::SpfError::kNone,
                           auth::SpfIdentity::kMailFrom, "alpha.com"};
  analyser_.messageVerified(a, v);
  analyser_.verificationDropped(b);
  ASSERT_EQ(sink_.verified.size(), 1u);
  EXPECT_EQ(sink_.verified[0].first.identity.domain, "alpha.com");
  EXPECT_EQ(sink_.verified[0].first.identity.source, PeerDomainSource::kReverseDns);
  EXPECT_TRUE(sink_.verified[0].first.verdicts_follow);
  ASSERT_TRUE(sink_.verified[0].second.spf);
  EXPECT_EQ(sink_.verified[0].second.spf->result, auth::SpfResult::kPass);
  ASSERT_EQ(sink_.dropped.size(), 1u);
  EXPECT_EQ(sink_.dropped[0].identity.domain, "beta.com");
  EXPECT_EQ(sink_.dropped[0].identity.source, PeerDomainSource::kHelo);
}

}  // namespace
}  // namespace mailsec::core::peer
