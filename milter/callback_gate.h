// callback_gate.h — lets libmilter's callbacks reach mailsec's state only while the daemon
// runs, so that main can tear that state down after smfi_main returns.
//
// Why: smfi_main returns at SIGTERM while libmilter's worker threads may still be inside a
// callback of a session in progress (libmilter lets open sessions go on after a stop, and
// never joins its workers). Without the gate, main destroyed the recorder chain (PeerAnalyser,
// the store's writer, the metrics) under such a callback: a use-after-free that
// ThreadSanitizer reported in integration_milter_postfix (docs/performance.md).
//
// Every callback runs inside an Entry; close() waits for the entries in flight and refuses
// every later one (the callback then returns its usual reply and touches nothing).
// Thread-safety: all members may be called from any thread. Errors: none.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <mutex>

namespace mailsec::milter {

class CallbackGate {
 public:
  class Entry {
   public:
    explicit Entry(CallbackGate& gate) : gate_(gate), entered_(gate.enter()) {}
    ~Entry() {
      if (entered_) gate_.leave();
    }
    Entry(const Entry&) = delete;
    Entry& operator=(const Entry&) = delete;
    explicit operator bool() const { return entered_; }

   private:
    CallbackGate& gate_;
    bool entered_;
  };

  // Returns once no entry is in flight; no entry succeeds afterwards.
  void close() {
    std::unique_lock lock(mutex_);
    closed_ = true;
    left_.wait(lock, [this] { return inside_ == 0; });
  }

 private:
  bool enter() {
    std::lock_guard lock(mutex_);
    if (closed_) return false;
    ++inside_;
    return true;
  }
  void leave() {
    std::lock_guard lock(mutex_);
    if (--inside_ == 0 && closed_) left_.notify_all();
  }

  std::mutex mutex_;
  std::condition_variable left_;
  std::size_t inside_ = 0;
  bool closed_ = false;
};

}  // namespace mailsec::milter
