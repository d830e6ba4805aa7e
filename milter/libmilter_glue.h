// libmilter_glue.h — registers mailsec's callbacks with libmilter and runs its loop.
//
// Every callback returns CONTINUE (or NOREPLY where the MTA agreed not to wait for a reply):
// mailsec never rejects, alters or delays mail, and never returns an early ACCEPT, which
// would blind it to the rest of the message. Any exception inside a callback is caught,
// logged, counted in mailsec_errors_total{component="milter"}, and the mail goes on.
//
// Thread-safety: libmilter runs callbacks on a worker pool; per-connection state lives in
// smfi_setpriv, shared state is the immutable config snapshot (swapped atomically by a reload)
// and the thread-safe recorder.
#pragma once

#include <memory>
#include <string>

#include "config/config.h"
#include "core/auth/authenticator.h"
#include "core/recorder.h"

namespace mailsec::milter {

// Registers with libmilter and opens the socket of `config` (milter.socket, timeout_seconds),
// so that a daemon can bind before it drops privileges. Returns an error message, or "".
std::string openLibmilterSocket(const config::Config& config);

// Sets what the callbacks use, and opens the socket unless openLibmilterSocket already did.
// Returns an error message, or "" on success. `authenticator` (may be null: off) verifies
// every message after the milter has answered.
std::string setUpLibmilter(std::shared_ptr<const config::Config> config, core::Recorder& recorder,
                           core::auth::Authenticator* authenticator = nullptr);

// A reload: connections from now on take `config` (port_classes); those open keep theirs.
// The socket, timeout, recorder and authenticator stay as set up. Safe from any thread.
void replaceConfig(std::shared_ptr<const config::Config> config);

// Runs libmilter's loop until SIGTERM/SIGINT/SIGHUP (libmilter owns those signals).
// Returns 0 on a clean stop. On return no callback is running and none will reach the
// recorder, the authenticator or a session again (sessions still open are not counted), so
// the caller may destroy them.
int runLibmilter();

}  // namespace mailsec::milter
