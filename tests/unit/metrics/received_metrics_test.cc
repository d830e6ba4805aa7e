// received_metrics_test.cc — the Received-chain families: one ChainObservation counts every hop,
// the path, the first cleartext position, the origin, the hop-count histogram and the caps.
#include <gtest/gtest.h>

#include <string>

#include "metrics/metrics.h"

namespace mailsec::metrics {
namespace {

using namespace core::received;

TEST(ReceivedMetrics, OneChainCountsExactly) {
  Metrics m;
  ChainObservation chain;
  chain.hops = {
      {HopPosition::kOrigin, Protocol::kESMTPA, HopTls::kFalse, std::nullopt},
      {HopPosition::kRelay, Protocol::kESMTPS, HopTls::kTrue, core::tls::Version::kTLSv1_2},
      {HopPosition::kInbound, Protocol::kESMTPS, HopTls::kTrue, core::tls::Version::kTLSv1_3}};
  chain.path = PathClass::kCleartextHop;
  chain.first_cleartext = HopPosition::kOrigin;
  chain.origin_authenticated = HopAuth::kTrue;
  chain.origin_tls = HopTls::kFalse;
  chain.dropped_header_cap = 2;
  chain.malformed = 1;
  m.recorder().receivedChain(chain);
  m.recorder().receivedChain(chain);

  auto& c = m.catalogue();
  EXPECT_EQ(c.received_hops.value(HopPosition::kOrigin, Protocol::kESMTPA, HopTls::kFalse), 2);
  EXPECT_EQ(c.received_hops.value(HopPosition::kRelay, Protocol::kESMTPS, HopTls::kTrue), 2);
  EXPECT_EQ(c.received_hops.value(HopPosition::kInbound, Protocol::kESMTPS, HopTls::kTrue), 2);
  EXPECT_EQ(c.received_hops.value(HopPosition::kInbound, Protocol::kESMTP, HopTls::kFalse), 0);
  EXPECT_EQ(c.received_hop_tls_versions.value(HopPosition::kRelay, core::tls::Version::kTLSv1_2),
            2);
  EXPECT_EQ(c.received_hop_tls_versions.value(HopPosition::kOrigin, core::tls::Version::kOther), 0);
  EXPECT_EQ(c.message_paths.value(PathClass::kCleartextHop), 2);
  EXPECT_EQ(c.message_paths.value(PathClass::kAllTls), 0);
  EXPECT_EQ(c.message_first_cleartext_hops.value(HopPosition::kOrigin), 2);
  EXPECT_EQ(c.message_origin_submissions.value(HopAuth::kTrue, HopTls::kFalse), 2);
  EXPECT_EQ(c.received_headers_dropped.value(DropReason::kHeaderCap), 4);
  EXPECT_EQ(c.received_headers_dropped.value(DropReason::kByteCap), 0);
  EXPECT_EQ(c.received_headers_unparsable.value(Unparsable::kMalformed), 2);

  const std::string text = m.render();
  EXPECT_NE(text.find("mailsec_received_hops_per_message_count 2"), std::string::npos) << text;
  EXPECT_NE(text.find("mailsec_received_hops_per_message_sum 6"), std::string::npos);
  EXPECT_NE(text.find("mailsec_received_hops_per_message_bucket{le=\"2\"} 0"), std::string::npos);
  EXPECT_NE(text.find("mailsec_received_hops_per_message_bucket{le=\"3\"} 2"), std::string::npos);
  // Every label combination of the hop family exists from the start (zeros on dashboards).
  EXPECT_NE(text.find("mailsec_received_hops_total{position=\"relay\",protocol=\"LMTPSA\","
                      "tls=\"unknown\"} 0"),
            std::string::npos);
}

}  // namespace
}  // namespace mailsec::metrics
