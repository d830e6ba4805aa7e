// path_summary_test.cc — summarizePath and hopFromSession: hop counts, path class, where the
// first cleartext hop sat, the origin's submission, and the live inbound hop from macros.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/received/message_analysis.h"
#include "core/received/path_summary.h"
#include "received/test_data.h"

namespace mailsec::core::received {
namespace {

Hop hop(HopTls tls, bool loopback = false, Protocol protocol = Protocol::kESMTP) {
  Hop h;
  h.tls = tls;
  h.loopback = loopback;
  h.protocol = protocol;
  return h;
}

constexpr HopTls T = HopTls::kTrue;
constexpr HopTls F = HopTls::kFalse;
constexpr HopTls U = HopTls::kUnknown;

struct PathCase {
  const char* name;
  std::vector<Hop> hops;  // topmost first
  bool with_inbound;
  HopTls inbound_tls;
  PathClass path;
  std::optional<HopPosition> first_cleartext;
  std::size_t tls_hops, cleartext_hops, unknown_hops;
};

TEST(SummarizePath, Table) {
  const std::vector<PathCase> cases = {
      {"no hops, no inbound", {}, false, U, PathClass::kUnknown, std::nullopt, 0, 0, 0},
      {"only the live TLS hop", {}, true, T, PathClass::kAllTls, std::nullopt, 1, 0, 0},
      {"only the live cleartext hop",
       {},
       true,
       F,
       PathClass::kCleartextHop,
       HopPosition::kInbound,
       0,
       1,
       0},
      {"all tls", {hop(T), hop(T)}, true, T, PathClass::kAllTls, std::nullopt, 3, 0, 0},
      {"cleartext origin",
       {hop(T), hop(F)},
       true,
       T,
       PathClass::kCleartextHop,
       HopPosition::kOrigin,
       2,
       1,
       0},
      {"cleartext relay",
       {hop(F), hop(T)},
       true,
       T,
       PathClass::kCleartextHop,
       HopPosition::kRelay,
       2,
       1,
       0},
      {"cleartext inbound only",
       {hop(T), hop(T)},
       true,
       F,
       PathClass::kCleartextHop,
       HopPosition::kInbound,
       2,
       1,
       0},
      {"first in travel order is the oldest",
       {hop(F), hop(T), hop(F)},
       true,
       F,
       PathClass::kCleartextHop,
       HopPosition::kOrigin,
       1,
       3,
       0},
      {"unknown hops are not judged",
       {hop(U), hop(T), hop(U)},
       true,
       T,
       PathClass::kAllTls,
       std::nullopt,
       2,
       0,
       2},
      {"nothing judgeable", {hop(U), hop(U)}, false, U, PathClass::kUnknown, std::nullopt, 0, 0, 2},
      {"loopback cleartext is not judged",
       {hop(F, true), hop(T)},
       true,
       T,
       PathClass::kAllTls,
       std::nullopt,
       2,
       1,
       0},
      {"without inbound, hop 0 is inbound",
       {hop(F), hop(T)},
       false,
       U,
       PathClass::kCleartextHop,
       HopPosition::kInbound,
       1,
       1,
       0},
  };
  for (const PathCase& c : cases) {
    SCOPED_TRACE(c.name);
    Hop inbound = hop(c.inbound_tls);
    const PathSummary s = summarizePath(c.hops, c.with_inbound ? &inbound : nullptr);
    EXPECT_EQ(s.hops, c.hops.size() + (c.with_inbound ? 1U : 0U));
    EXPECT_EQ(toLabel(s.path), toLabel(c.path));
    EXPECT_EQ(s.all_judgeable_tls, c.path == PathClass::kAllTls);
    EXPECT_EQ(s.first_cleartext.has_value(), c.first_cleartext.has_value());
    if (s.first_cleartext && c.first_cleartext) {
      EXPECT_EQ(toLabel(*s.first_cleartext), toLabel(*c.first_cleartext));
    }
    EXPECT_EQ(s.tls_hops, c.tls_hops);
    EXPECT_EQ(s.cleartext_hops, c.cleartext_hops);
    EXPECT_EQ(s.unknown_hops, c.unknown_hops);
  }
}

TEST(SummarizePath, PositionsAndOrigin) {
  std::vector<Hop> hops = {hop(T), hop(T), hop(F, false, Protocol::kESMTPA)};
  hops[2].authenticated = HopAuth::kTrue;
  const Hop inbound = hop(T);
  const PathSummary with = summarizePath(hops, &inbound);
  ASSERT_EQ(with.positions.size(), 3U);
  EXPECT_EQ(toLabel(with.positions[0]), "relay");
  EXPECT_EQ(toLabel(with.positions[1]), "relay");
  EXPECT_EQ(toLabel(with.positions[2]), "origin");
  EXPECT_EQ(toLabel(*with.inbound_position), "inbound");
  EXPECT_EQ(toLabel(with.origin.protocol), "ESMTPA");
  EXPECT_EQ(toLabel(with.origin.authenticated), "true");
  EXPECT_EQ(toLabel(with.origin.tls), "false");

  const PathSummary without = summarizePath(hops, nullptr);
  EXPECT_EQ(toLabel(without.positions[0]), "inbound");
  EXPECT_EQ(toLabel(without.positions[1]), "relay");
  EXPECT_EQ(toLabel(without.positions[2]), "origin");
  EXPECT_FALSE(without.inbound_position.has_value());

  // With no headers, the live hop is the origin's submission itself.
  const Hop submission = hop(T, false, Protocol::kESMTPSA);
  const PathSummary alone = summarizePath({}, &submission);
  EXPECT_EQ(toLabel(alone.origin.protocol), "ESMTPSA");
}

TEST(HopFromSession, ProtocolFromTlsAuthAndLmtp) {
  struct Case {
    bool tls, auth, lmtp;
    Protocol want;
  };
  for (const Case& c :
       {Case{false, false, false, Protocol::kESMTP}, Case{false, true, false, Protocol::kESMTPA},
        Case{true, false, false, Protocol::kESMTPS}, Case{true, true, false, Protocol::kESMTPSA},
        Case{false, false, true, Protocol::kLMTP}, Case{true, true, true, Protocol::kLMTPSA}}) {
    LiveSession s;
    if (c.tls) {
      s.tls_version = "TLSv1.3";
      s.cipher = "TLS_AES_256_GCM_SHA384";
      s.cipher_bits = "256";
    }
    if (c.auth) s.auth_type = "PLAIN";
    s.lmtp = c.lmtp;
    const Hop h = hopFromSession(s);
    SCOPED_TRACE(toLabel(c.want));
    EXPECT_EQ(toLabel(h.protocol), toLabel(c.want));
    EXPECT_EQ(h.with, toLabel(c.want));
    EXPECT_EQ(toLabel(h.tls), c.tls ? "true" : "false");
    EXPECT_EQ(toLabel(h.authenticated), c.auth ? "true" : "false");
    EXPECT_EQ(toLabel(h.tls_evidence), "live_session");
    EXPECT_EQ(toLabel(h.profile.version), c.tls ? "TLSv1.3" : "other");
    EXPECT_EQ(h.cipher_bits, c.tls ? 256 : 0);
  }
}

TEST(HopFromSession, CertificatesAddressesAndBounds) {
  LiveSession s;
  s.tls_version = "TLSv1.2";
  s.cipher = "ECDHE-RSA-AES256-GCM-SHA384";
  s.verify = "OK";
  s.client_addr = "127.0.0.1";
  const std::string long_name(1000, 'h');
  s.helo = long_name;
  Hop h = hopFromSession(s);
  EXPECT_EQ(toLabel(h.client_cert), "verified");
  EXPECT_TRUE(h.loopback);
  EXPECT_EQ(h.from.size(), kMaxFieldBytes);
  EXPECT_EQ(toLabel(h.profile.kex), "ECDHE");

  s.verify = "";
  s.cert_subject = "client.example.org";  // Postfix: subject only for a verified certificate
  EXPECT_EQ(toLabel(hopFromSession(s).client_cert), "verified");
  s.cert_subject = "";
  EXPECT_EQ(toLabel(hopFromSession(s).client_cert), "unknown");
  s.verify = "NO";
  EXPECT_EQ(toLabel(hopFromSession(s).client_cert), "not_presented");
  s.verify = "FAIL";
  EXPECT_EQ(toLabel(hopFromSession(s).client_cert), "unverified");
}

// Whole real messages through analyseMessage.
TEST(AnalyseMessage, FreebsdListThroughOutlook) {
  const std::string text = testing::readReceivedData("messages/freebsd-outlook-arcbad.eml");
  const MessageAnalysis a = analyseMessage(text);
  ASSERT_EQ(a.hops.size(), 8U);
  EXPECT_EQ(a.summary.hops, 8U);
  EXPECT_EQ(a.summary.tls_hops, 5U);
  EXPECT_EQ(a.summary.cleartext_hops, 2U);
  EXPECT_EQ(a.summary.unknown_hops, 1U);
  EXPECT_EQ(toLabel(a.summary.path), "cleartext_hop");
  EXPECT_EQ(toLabel(*a.summary.first_cleartext), "relay");
  EXPECT_EQ(toLabel(a.summary.origin.protocol), "MAPI");
  EXPECT_EQ(toLabel(a.hops[5].protocol), "exchange");
  EXPECT_EQ(toLabel(a.hops[5].profile.version), "TLSv1.2");
  EXPECT_FALSE(a.header.mbox_from_line);
  EXPECT_TRUE(a.header.complete);
}

TEST(AnalyseMessage, MboxWithLeadingFromLine) {
  const MessageAnalysis a =
      analyseMessage(testing::readReceivedData("messages/slashnull-nice.mbox"));
  EXPECT_TRUE(a.header.mbox_from_line);
  ASSERT_EQ(a.hops.size(), 6U);
  EXPECT_EQ(toLabel(a.hops[1].protocol), "local");  // "(from jm@localhost) by dogma (8.9.3…)"
  EXPECT_EQ(toLabel(a.hops[5].protocol), "local");  // "by milkplus (Postfix, from userid 1000)"
  EXPECT_EQ(a.summary.loopback_hops, 1U);
  EXPECT_EQ(toLabel(a.summary.path), "cleartext_hop");
  EXPECT_EQ(toLabel(*a.summary.first_cleartext), "relay");
}

TEST(AnalyseMessage, SourceforgeListFromWebmail) {
  const MessageAnalysis a =
      analyseMessage(testing::readReceivedData("messages/sourceforge-list-002.eml"));
  ASSERT_EQ(a.hops.size(), 7U);
  EXPECT_EQ(toLabel(a.summary.origin.protocol), "HTTP");
  EXPECT_EQ(toLabel(a.summary.origin.authenticated), "true");
  EXPECT_EQ(toLabel(a.summary.origin.tls), "false");
  EXPECT_EQ(toLabel(*a.summary.first_cleartext), "origin");
  EXPECT_EQ(a.summary.loopback_hops, 2U);
}

}  // namespace
}  // namespace mailsec::core::received
