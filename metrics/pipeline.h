// pipeline.h — the recorder chain a daemon hands its front-end:
//
//   front-end → core::peer::PeerAnalyser (peer identity, downgrade signals)
//             → FanOutRecorder → PrometheusRecorder (the catalogue's counters)
//                              → store::StoreRecorder → StoreWriter thread → SQLite
//
// At construction it loads the Public Suffix List, opens the store and seeds the peer history
// from it, and starts the writer; a missing list or a failing store is logged and counted,
// never fatal: Prometheus counting goes on without them.
//
// Thread-safety: construct and stop() on the main thread; recorder() is safe from any thread.
// Errors: none thrown; problems are logged, counted (mailsec_store_errors_total) and retried.
#pragma once

#include <memory>
#include <string>

#include "config/config.h"
#include "core/peer/downgrade.h"
#include "core/peer/peer_analyser.h"
#include "core/peer/public_suffix.h"
#include "metrics/fan_out_recorder.h"
#include "metrics/metrics.h"
#include "metrics/store/store_recorder.h"
#include "metrics/store_health.h"

namespace mailsec::metrics {

struct PipelineOptions {
  core::Source source = core::Source::kMilter;
  std::string store_path;  // empty: no store
  std::uint32_t flush_seconds = 60;
  std::uint32_t retention_days = 400;
  std::string public_suffix_list = core::peer::kDefaultPublicSuffixList;
  core::peer::DowngradeThresholds downgrade;
  std::size_t max_history_peers = 200000;
};

// The options from a daemon's configuration (store:, downgrade:).
PipelineOptions pipelineOptions(const config::Config& config, core::Source source);

class Pipeline {
 public:
  Pipeline(const PipelineOptions& options, Metrics& metrics,
           core::peer::Clock clock = core::peer::systemClock);
  ~Pipeline();  // stop()s
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  core::Recorder& recorder() { return *analyser_; }
  // Flushes the store and stops its thread. Later reports still reach Prometheus.
  void stop();

 private:
  core::peer::PublicSuffixList psl_;
  core::peer::PeerHistory history_;
  StoreHealthCounters health_;
  std::unique_ptr<store::StoreWriter> writer_;
  std::unique_ptr<store::StoreRecorder> store_recorder_;
  std::unique_ptr<FanOutRecorder> fan_out_;
  std::unique_ptr<core::peer::PeerAnalyser> analyser_;
};

}  // namespace mailsec::metrics
