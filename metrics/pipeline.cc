#include "metrics/pipeline.h"

#include "common/log.h"

namespace mailsec::metrics {

PipelineOptions pipelineOptions(const config::Config& config, core::Source source) {
  PipelineOptions o;
  o.source = source;
  o.store_path = config.store.path;
  o.flush_seconds = config.store.flush_seconds;
  o.retention_days = config.store.retention_days;
  o.public_suffix_list = config.store.public_suffix_list;
  o.downgrade.min_sessions = config.downgrade.min_sessions;
  o.downgrade.min_tls_share = config.downgrade.min_tls_share;
  o.downgrade.window_days = config.downgrade.window_days;
  o.downgrade.trusted_sources = 0;
  for (const auto s : config.downgrade.identity_sources) {
    o.downgrade.trusted_sources |= 1u << static_cast<unsigned>(s);
  }
  return o;
}

Pipeline::Pipeline(const PipelineOptions& options, Metrics& metrics, core::peer::Clock clock)
    : history_(options.downgrade.window_days, options.max_history_peers),
      health_(metrics.catalogue()) {
  std::string problem;
  if (auto psl = core::peer::PublicSuffixList::load(options.public_suffix_list, &problem)) {
    psl_ = std::move(*psl);
  } else {
    log::warning(problem, ": peer domains fall back to their last two labels");
    metrics.recorder().internalError(core::Component::kConfig);
  }
  if (options.store_path.empty()) {
    fan_out_ = std::make_unique<FanOutRecorder>(
        std::initializer_list<core::Recorder*>{&metrics.recorder()});
  } else {
    store::WriterOptions w;
    w.path = options.store_path;
    w.flush_interval = std::chrono::seconds(options.flush_seconds);
    w.retention_days = options.retention_days;
    writer_ = std::make_unique<store::StoreWriter>(w, health_, clock);
    if (!writer_->open()) {
      // Seed the history: the window ending today, this front-end's rows, trusted sources.
      const core::peer::Day today = core::peer::dayOf(clock());
      std::vector<store::HistoryRow> rows;
      const auto since = today - static_cast<core::peer::Day>(options.downgrade.window_days) + 1;
      if (!writer_->history(std::string(core::toLabel(options.source)), since, rows)) {
        std::size_t seeded = 0;
        for (const auto& row : rows) {
          const auto source = core::fromLabel<core::PeerDomainSource>(row.peer_source);
          if (!source || !options.downgrade.trusts(*source)) continue;
          if (history_.add({row.peer_domain, *source}, row.day, row.sessions, row.tls_sessions)) {
            ++seeded;
          }
        }
        log::info("store ", options.store_path, ": history of ", history_.peers(),
                  " peers loaded (", seeded, " peer-days)");
      }
    }
    writer_->start();
    store_recorder_ = std::make_unique<store::StoreRecorder>(*writer_, clock);
    fan_out_ = std::make_unique<FanOutRecorder>(
        std::initializer_list<core::Recorder*>{&metrics.recorder(), store_recorder_.get()});
  }
  analyser_ = std::make_unique<core::peer::PeerAnalyser>(psl_, options.downgrade, history_,
                                                         *fan_out_, clock);
}

Pipeline::~Pipeline() { stop(); }

void Pipeline::stop() {
  if (writer_) writer_->stop();
}

}  // namespace mailsec::metrics
