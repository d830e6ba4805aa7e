#include "common/signals.h"

#include <pthread.h>

namespace mailsec::common {

sigset_t blockDaemonSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGHUP);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  return signals;
}

namespace {

sigset_t reloadSet() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGUSR1);
  return signals;
}

}  // namespace

ReloadSignal::ReloadSignal() {
  const sigset_t signals = reloadSet();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
}

ReloadSignal::~ReloadSignal() {
  if (!thread_.joinable()) return;
  stopping_ = true;
  pthread_kill(thread_.native_handle(), SIGUSR1);  // wakes its sigwait
  thread_.join();
}

void ReloadSignal::start(std::function<void()> on_reload) {
  thread_ = std::thread([this, on_reload = std::move(on_reload)] {
    const sigset_t signals = reloadSet();
    while (true) {
      int signal = 0;
      if (sigwait(&signals, &signal) != 0) continue;
      if (stopping_) return;
      on_reload();
    }
  });
}

}  // namespace mailsec::common
