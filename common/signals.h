// signals.h — the signal set-up every mailsec daemon shares: SIGHUP, SIGTERM and SIGINT are
// blocked in the calling thread (call it in main before any thread starts, so that every
// thread inherits the mask and the signals are only taken synchronously — by libmilter's
// sigwait thread or a signalfd), and SIGPIPE is ignored (a peer that closes early must not
// kill the daemon).
//
// Thread-safety: call once from main before starting threads. Errors: none (the calls cannot
// fail with these arguments).
//
// ReloadSignal: SIGUSR1 asks a daemon to reload its configuration (libmilter stops on SIGHUP,
// so the reload signal cannot be SIGHUP for the milter). Construct it in main before any thread
// starts (it blocks SIGUSR1 there, so every thread inherits the mask); start() then waits for
// the signal on a thread of its own and runs the callback there, once per signal received.
// The destructor stops and joins that thread.
#pragma once

#include <atomic>
#include <csignal>
#include <functional>
#include <thread>

namespace mailsec::common {

// Blocks SIGHUP, SIGTERM and SIGINT and ignores SIGPIPE; returns the blocked set.
sigset_t blockDaemonSignals();

class ReloadSignal {
 public:
  ReloadSignal();
  ~ReloadSignal();
  ReloadSignal(const ReloadSignal&) = delete;
  ReloadSignal& operator=(const ReloadSignal&) = delete;

  // Runs `on_reload` on the signal thread for every SIGUSR1 from now on. Call once.
  void start(std::function<void()> on_reload);

 private:
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace mailsec::common
