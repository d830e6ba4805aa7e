// concurrent_recorder_test.cc — the recorder is written from libmilter's and the verification
// pool's threads while the exposer's thread renders: counts from many threads at once add up
// exactly, and lazily added series (families too large to preallocate) are added once.
// Meant to run under ThreadSanitizer too (docs/performance.md).
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "metrics/metrics.h"

namespace mailsec::metrics {
namespace {

using namespace core::received;

TEST(ConcurrentRecorder, ThreadsCountingWhileRenderingAddUp) {
  constexpr int kThreads = 4;
  constexpr int kEach = 500;
  Metrics m;
  ChainObservation chain;
  chain.hops = {
      {HopPosition::kRelay, Protocol::kESMTPS, HopTls::kTrue, core::tls::Version::kTLSv1_2},
      {HopPosition::kInbound, Protocol::kESMTPS, HopTls::kTrue, core::tls::Version::kTLSv1_3}};
  chain.path = PathClass::kAllTls;
  std::vector<std::jthread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&m, &chain] {
      for (int i = 0; i < kEach; ++i) {
        m.recorder().receivedChain(chain);
        m.recorder().internalError(core::Component::kMilter);
      }
    });
  }
  std::jthread renderer([&m](std::stop_token stop) {
    while (!stop.stop_requested()) EXPECT_FALSE(m.render().empty());
  });
  for (auto& t : threads) t.join();
  renderer.request_stop();
  renderer.join();

  auto& c = m.catalogue();
  constexpr double kTotal = kThreads * kEach;
  EXPECT_EQ(c.received_hops.value(HopPosition::kRelay, Protocol::kESMTPS, HopTls::kTrue), kTotal);
  EXPECT_EQ(c.received_hops.value(HopPosition::kInbound, Protocol::kESMTPS, HopTls::kTrue), kTotal);
  EXPECT_EQ(c.message_paths.value(PathClass::kAllTls), kTotal);
  EXPECT_EQ(c.errors.value(core::Component::kMilter), kTotal);
  const std::string text = m.render();
  EXPECT_NE(text.find("mailsec_received_hops_per_message_count 2000"), std::string::npos);
}

}  // namespace
}  // namespace mailsec::metrics
