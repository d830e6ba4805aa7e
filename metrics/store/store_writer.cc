#include "metrics/store/store_writer.h"

#include <utility>

#include "common/log.h"
#include "core/peer/downgrade.h"

namespace mailsec::metrics::store {
namespace {

log::RateLimited& storeWarnings() {
  static log::RateLimited limited(5, std::chrono::seconds(60));
  return limited;
}

}  // namespace

StoreWriter::StoreWriter(WriterOptions options, StoreHealth& health, Clock clock)
    : options_(std::move(options)), health_(health), clock_(std::move(clock)) {}

StoreWriter::~StoreWriter() { stop(); }

void StoreWriter::report(const StoreError& error) {
  health_.failed(error.kind, 1);
  storeWarnings().warning(error.message, " (", core::toLabel(error.kind),
                          "; Prometheus counting goes on; retrying at the next flush)");
}

std::optional<StoreError> StoreWriter::open() {
  std::optional<StoreError> error;
  store_ = Store::open(options_.path, Store::Mode::kReadWrite, options_.busy_timeout_ms, &error);
  opened_ = store_.isOpen();
  if (error) report(*error);
  return error;
}

std::optional<StoreError> StoreWriter::history(const std::string& source, Day since,
                                               std::vector<HistoryRow>& out) {
  if (!opened_) return StoreError{StoreErrorKind::kOpen, "store " + options_.path + ": not open"};
  auto error = store_.history(source, since, out);
  if (error) report(*error);
  return error;
}

void StoreWriter::start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { run(); });
}

void StoreWriter::stop() {
  {
    std::lock_guard lock(queue_mutex_);
    if (stopping_) return;
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable())
    thread_.join();
  else
    flush();
}

void StoreWriter::enqueue(StoreEvent event) {
  {
    std::lock_guard lock(queue_mutex_);
    if (queue_.size() < options_.queue_capacity) {
      queue_.push_back(std::move(event));
      return;
    }
  }
  health_.failed(StoreErrorKind::kQueueFull, 1);
}

void StoreWriter::flushNow() { flush(); }

void StoreWriter::run() {
  std::unique_lock lock(queue_mutex_);
  while (!stopping_) {
    wake_.wait_for(lock, options_.flush_interval, [this] { return stopping_; });
    lock.unlock();
    flush();
    lock.lock();
  }
  lock.unlock();
  flush();  // what arrived while the last flush ran
}

void StoreWriter::flush() {
  std::vector<StoreEvent> events;
  {
    std::lock_guard lock(queue_mutex_);
    events.swap(queue_);
  }
  for (auto& e : events) {
    switch (e.kind) {
      case StoreEvent::Kind::kSession:
        pending_.sessions[std::move(e.session)] += 1;
        break;
      case StoreEvent::Kind::kMessage:
        pending_.messages[std::move(e.message)] += 1;
        break;
      case StoreEvent::Kind::kAuth:
        pending_.auth[std::move(e.auth)] += 1;
        break;
      case StoreEvent::Kind::kVerified:
        pending_.messages[std::move(e.message)] += 1;
        pending_.auth[std::move(e.auth)] += 1;
        break;
      case StoreEvent::Kind::kPath:
        pending_.paths[std::move(e.path)] += 1;
        break;
      case StoreEvent::Kind::kDowngrade: {
        auto [it, inserted] = pending_.downgrades.try_emplace(std::move(e.downgrade),
                                                              DowngradeCount{1, e.time, e.time});
        if (!inserted) {
          it->second.count += 1;
          it->second.first_seen = std::min(it->second.first_seen, e.time);
          it->second.last_seen = std::max(it->second.last_seen, e.time);
        }
        break;
      }
    }
  }
  if (!opened_ && open()) {
    if (pending_.rows() > options_.max_pending_rows) {
      health_.failed(StoreErrorKind::kQueueFull, pending_.rows());
      pending_ = Batch{};
    }
    return;
  }
  if (auto error = store_.write(pending_)) {
    report(*error);
    // A lock timeout is contention: keep the connection. Anything else may need a fresh one
    // (permissions fixed, disk freed, file replaced).
    if (error->kind != StoreErrorKind::kLocked) {
      store_ = Store();
      opened_ = false;
    }
    if (pending_.rows() > options_.max_pending_rows) {
      health_.failed(StoreErrorKind::kQueueFull, pending_.rows());
      pending_ = Batch{};
    }
    return;
  }
  pending_ = Batch{};
  health_.flushed();
  const Day today = core::peer::dayOf(clock_());
  if (today != last_pruned_) {
    const Day first_kept = today - static_cast<Day>(options_.retention_days) + 1;
    if (auto error = store_.prune(first_kept)) {
      report(*error);
    } else {
      last_pruned_ = today;
    }
  }
}

}  // namespace mailsec::metrics::store
