// signals.h — the signal set-up every mailsec daemon shares: SIGHUP, SIGTERM and SIGINT are
// blocked in the calling thread (call it in main before any thread starts, so that every
// thread inherits the mask and the signals are only taken synchronously — by libmilter's
// sigwait thread or a signalfd), and SIGPIPE is ignored (a peer that closes early must not
// kill the daemon).
//
// Thread-safety: call once from main before starting threads. Errors: none (the calls cannot
// fail with these arguments).
#pragma once

#include <csignal>

namespace mailsec::common {

// Blocks SIGHUP, SIGTERM and SIGINT and ignores SIGPIPE; returns the blocked set.
sigset_t blockDaemonSignals();

}  // namespace mailsec::common
