// store_writer.h — the one thread per process that writes the history store. The mail path
// only appends to a bounded in-memory queue (never waits on SQLite); the writer folds the
// queue into a batch every flush interval and at stop, and writes it in one transaction.
//
// Failures (corrupt, locked, read-only, full, unopenable store) are logged (rate-limited),
// counted through StoreHealth, and retried at the next interval: the failed batch is kept and
// merged with the next (up to max_pending_rows; beyond, it is dropped and counted as
// queue_full). The store is reopened after any failure but a lock timeout. A kill -9 loses
// what was queued since the last successful flush: at most one interval.
//
// Thread-safety: enqueue() from any thread; start()/stop() from one thread. Errors: never
// throws from enqueue() or the thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "metrics/store/store.h"

namespace mailsec::metrics::store {

// How the writer reports its health (mailsec_store_flushes_total, mailsec_store_errors_total).
class StoreHealth {
 public:
  virtual ~StoreHealth() = default;
  virtual void flushed() = 0;
  virtual void failed(StoreErrorKind kind, std::uint64_t count) = 0;
};

struct WriterOptions {
  std::string path;
  std::chrono::milliseconds flush_interval{std::chrono::seconds(60)};
  std::uint32_t retention_days = 400;
  std::size_t queue_capacity = 100000;    // queued observations before drop-and-count
  std::size_t max_pending_rows = 200000;  // distinct rows kept across failed flushes
  int busy_timeout_ms = 5000;             // the writer thread waits this long for a lock
};

// One observation on its way to the store.
struct StoreEvent {
  enum class Kind : std::uint8_t {
    kSession,
    kMessage,
    kDowngrade,
    kAuth,
    kPath,
    kVerified  // a verified message: its message_rollups row (message) and auth row (auth)
  } kind = Kind::kSession;
  SessionKey session;
  MessageKey message;
  DowngradeKey downgrade;
  AuthKey auth;
  PathKey path;
  std::int64_t time = 0;  // Unix seconds (downgrades' first/last seen)
};

class StoreWriter {
 public:
  using Clock = std::function<std::int64_t()>;  // Unix seconds

  StoreWriter(WriterOptions options, StoreHealth& health, Clock clock);
  ~StoreWriter();  // stop()s
  StoreWriter(const StoreWriter&) = delete;
  StoreWriter& operator=(const StoreWriter&) = delete;

  // Opens the store on the calling thread (a failure is reported and retried by the thread).
  // Returns the open error, if any, for the start-up log.
  std::optional<StoreError> open();
  // Reads per-peer history since `since` (start-up, before traffic; calling thread).
  std::optional<StoreError> history(const std::string& source, Day since,
                                    std::vector<HistoryRow>& out);
  void start();
  // Flushes what is queued and joins the thread.
  void stop();

  // Never blocks on I/O: a short lock, a push, a notify at most.
  void enqueue(StoreEvent event);
  // Flushes now, on the calling thread (tests; the thread must not be running).
  void flushNow();

  const WriterOptions& options() const { return options_; }

 private:
  void run();
  void flush();
  void report(const StoreError& error);

  const WriterOptions options_;
  StoreHealth& health_;
  Clock clock_;

  std::mutex queue_mutex_;
  std::condition_variable wake_;
  std::vector<StoreEvent> queue_;
  bool stopping_ = false;

  // Writer-thread state.
  Store store_;
  bool opened_ = false;
  Batch pending_;
  Day last_pruned_ = 0;
  std::thread thread_;
};

}  // namespace mailsec::metrics::store
