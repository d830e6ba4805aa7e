// libmilter_glue.h — registers mailsec's callbacks with libmilter and runs its loop.
//
// Every callback returns CONTINUE (or NOREPLY where the MTA agreed not to wait for a reply):
// mailsec never rejects, alters or delays mail, and never returns an early ACCEPT, which
// would blind it to the rest of the message. Any exception inside a callback is caught,
// logged, counted in mailsec_errors_total{component="milter"}, and the mail goes on.
//
// Thread-safety: libmilter runs callbacks on a worker pool; per-connection state lives in
// smfi_setpriv, shared state is the immutable config snapshot and the thread-safe recorder.
#pragma once

#include <memory>
#include <string>

#include "config/config.h"
#include "core/auth/authenticator.h"
#include "core/recorder.h"

namespace mailsec::milter {

// Registers with libmilter and opens the socket. Returns an error message, or "" on success.
// `authenticator` (may be null: off) verifies every message after the milter has answered.
std::string setUpLibmilter(std::shared_ptr<const config::Config> config, core::Recorder& recorder,
                           core::auth::Authenticator* authenticator = nullptr);

// Runs libmilter's loop until SIGTERM/SIGINT/SIGHUP (libmilter owns those signals).
// Returns 0 on a clean stop.
int runLibmilter();

}  // namespace mailsec::milter
