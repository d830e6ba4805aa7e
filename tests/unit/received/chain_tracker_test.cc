// chain_tracker_test.cc — ReceivedChainTracker: headers in, one ChainObservation per message
// out (travel order, live inbound hop last), per-message caps counted, aborts report nothing.
#include "core/received/chain_tracker.h"

#include <gtest/gtest.h>

#include <string>

#include "fakes/recording_recorder.h"
#include "received/test_data.h"

namespace mailsec::core::received {
namespace {

LiveSession tlsSession() {
  LiveSession live;
  live.client_addr = "192.0.2.7";
  live.helo = "relay.example.org";
  live.by = "mx.example.net";
  live.tls_version = "TLSv1.3";
  live.cipher = "TLS_AES_256_GCM_SHA384";
  live.cipher_bits = "256";
  return live;
}

TEST(ReceivedChainTracker, RealChainPlusLiveHop) {
  mailsec::testing::RecordingRecorder recorder;
  ReceivedChainTracker tracker(Source::kMilter, recorder);
  tracker.messageStarted();
  tracker.header("Subject", "not a Received header");
  // Topmost first, as the MTA passes them: a Postfix TLS 1.3 hop over an Exim ESMTPSA origin.
  tracker.header("Received", testing::firstReceivedValue(testing::readReceivedData(
                                 "headers/postfix-tls13-no-client-cert.txt")));
  tracker.header("Received", testing::firstReceivedValue(
                                 testing::readReceivedData("headers/exim-esmtpsa.txt")));
  EXPECT_GT(tracker.keptBytes(), 0U);
  const ChainObservation got = tracker.messageEnded(tlsSession());
  EXPECT_EQ(tracker.keptBytes(), 0U);

  ASSERT_EQ(recorder.chains.size(), 1U);
  const ChainObservation& c = recorder.chains[0];
  EXPECT_EQ(c.hops.size(), got.hops.size());
  ASSERT_EQ(c.hops.size(), 3U);
  EXPECT_EQ(toLabel(c.hops[0].position), "origin");
  EXPECT_EQ(toLabel(c.hops[0].protocol), "ESMTPSA");
  EXPECT_EQ(toLabel(c.hops[0].tls), "true");
  EXPECT_FALSE(c.hops[0].tls_version.has_value());  // Exim 4.76 wrote no version
  EXPECT_EQ(toLabel(c.hops[1].position), "relay");
  EXPECT_EQ(toLabel(c.hops[1].protocol), "ESMTPS");
  EXPECT_EQ(toLabel(*c.hops[1].tls_version), "TLSv1.3");
  EXPECT_EQ(toLabel(c.hops[2].position), "inbound");
  EXPECT_EQ(toLabel(c.hops[2].protocol), "ESMTPS");
  EXPECT_EQ(toLabel(*c.hops[2].tls_version), "TLSv1.3");
  EXPECT_EQ(toLabel(c.path), "all_tls");
  EXPECT_FALSE(c.first_cleartext.has_value());
  EXPECT_EQ(toLabel(c.origin_authenticated), "true");
  EXPECT_EQ(toLabel(c.origin_tls), "true");
  EXPECT_EQ(c.dropped_header_cap + c.dropped_byte_cap + c.malformed + c.truncated, 0U);
}

TEST(ReceivedChainTracker, CleartextLiveHopAndNoHeaders) {
  mailsec::testing::RecordingRecorder recorder;
  ReceivedChainTracker tracker(Source::kMilter, recorder);
  LiveSession live;
  live.client_addr = "192.0.2.7";
  live.auth_type = "PLAIN";
  tracker.messageStarted();
  tracker.messageEnded(live);
  ASSERT_EQ(recorder.chains.size(), 1U);
  const ChainObservation& c = recorder.chains[0];
  ASSERT_EQ(c.hops.size(), 1U);
  EXPECT_EQ(toLabel(c.hops[0].protocol), "ESMTPA");
  EXPECT_EQ(toLabel(c.hops[0].tls), "false");
  EXPECT_EQ(toLabel(c.path), "cleartext_hop");
  EXPECT_EQ(toLabel(*c.first_cleartext), "inbound");
  EXPECT_EQ(toLabel(c.origin_authenticated), "true");
}

TEST(ReceivedChainTracker, CapsAreCountedAndMalformedHopsKept) {
  mailsec::testing::RecordingRecorder recorder;
  ReceivedChainTracker tracker(Source::kMilter, recorder, ReceivedLimits{3, 1 << 20});
  tracker.messageStarted();
  tracker.header("Received", "apparently");  // kept, malformed
  for (int i = 0; i < 5; ++i) tracker.header("Received", "from a by b with ESMTP; date");
  tracker.messageEnded(tlsSession());
  ASSERT_EQ(recorder.chains.size(), 1U);
  const ChainObservation& c = recorder.chains[0];
  EXPECT_EQ(c.hops.size(), 4U);  // three kept headers and the live hop
  EXPECT_EQ(c.dropped_header_cap, 3U);
  EXPECT_EQ(c.dropped_byte_cap, 0U);
  EXPECT_EQ(c.malformed, 1U);
  EXPECT_EQ(toLabel(c.path), "cleartext_hop");

  ReceivedChainTracker small(Source::kMilter, recorder, ReceivedLimits{100, 40});
  small.messageStarted();
  small.header("Received", std::string(30, 'x'));
  small.header("Received", std::string(30, 'y'));
  small.messageEnded(tlsSession());
  EXPECT_EQ(recorder.chains.back().dropped_byte_cap, 1U);
  EXPECT_EQ(recorder.chains.back().hops.size(), 2U);
}

TEST(ReceivedChainTracker, AbortAndNextMessageStartFresh) {
  mailsec::testing::RecordingRecorder recorder;
  ReceivedChainTracker tracker(Source::kMilter, recorder);
  tracker.messageStarted();
  tracker.header("Received", "from a by b with ESMTP; date");
  tracker.messageAborted();
  EXPECT_TRUE(recorder.chains.empty());
  tracker.messageStarted();
  tracker.header("Received", "from c by d with ESMTPS; date");
  tracker.messageEnded(tlsSession());
  ASSERT_EQ(recorder.chains.size(), 1U);
  ASSERT_EQ(recorder.chains[0].hops.size(), 2U);
  EXPECT_EQ(toLabel(recorder.chains[0].hops[0].protocol), "ESMTPS");
}

}  // namespace
}  // namespace mailsec::core::received
