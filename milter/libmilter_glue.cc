#include "milter/libmilter_glue.h"

#include <libmilter/mfapi.h>

#include <atomic>
#include <exception>
#include <new>

#include "common/log.h"
#include "milter/callback_gate.h"
#include "milter/milter_session.h"
#include "milter/negotiation.h"

namespace mailsec::milter {
namespace {

struct GlueState {
  // The snapshot every new connection takes; replaced whole by a reload (replaceConfig).
  std::atomic<std::shared_ptr<const config::Config>> config;
  core::Recorder* recorder = nullptr;
  core::auth::Authenticator* authenticator = nullptr;  // null: verification off
  bool socket_open = false;
};
GlueState g_state;  // set before smfi_main; afterwards only `config` changes (atomically)
log::RateLimited g_error_log(10, std::chrono::seconds(60));
// Whether the last negotiation kept header values' leading space (for reused connections).
std::atomic<bool> g_last_leading_space{true};
// Closed when smfi_main returns: callbacks still running are waited for, later ones do nothing
// (the recorder chain is destroyed after runLibmilter; callback_gate.h).
// Never destroyed: libmilter's workers outlive main's return.
CallbackGate& g_gate = *new CallbackGate;

class LibmilterMacros final : public MacroReader {
 public:
  explicit LibmilterMacros(SMFICTX* ctx) : ctx_(ctx) {}
  std::string_view get(const char* name) const override {
    const char* value = smfi_getsymval(ctx_, const_cast<char*>(name));
    return value == nullptr ? std::string_view() : std::string_view(value);
  }

 private:
  SMFICTX* ctx_;
};

std::unique_ptr<MilterSession> newSession() {
  // Each session keeps the configuration snapshot current when it starts.
  return std::make_unique<MilterSession>(g_state.config.load(), *g_state.recorder,
                                         g_state.authenticator);
}

MilterSession* sessionOf(SMFICTX* ctx) { return static_cast<MilterSession*>(smfi_getpriv(ctx)); }

// Runs `body` for the connection's session (if it has one) and contains every failure.
template <typename Body>
sfsistat guarded(SMFICTX* ctx, const char* stage, sfsistat reply, Body&& body) {
  const CallbackGate::Entry entry(g_gate);
  if (!entry) return reply;
  try {
    if (MilterSession* session = sessionOf(ctx)) body(*session);
  } catch (const std::exception& e) {
    g_state.recorder->internalError(core::Component::kMilter);
    g_error_log.warning("milter: internal error at ", stage, ": ", e.what(), "; mail unaffected");
  } catch (...) {
    g_state.recorder->internalError(core::Component::kMilter);
    g_error_log.warning("milter: unknown internal error at ", stage, "; mail unaffected");
  }
  return reply;
}

sfsistat onNegotiate(SMFICTX* ctx, unsigned long /*actions*/, unsigned long steps, unsigned long,
                     unsigned long, unsigned long* want_actions, unsigned long* want_steps,
                     unsigned long* want_f2, unsigned long* want_f3) {
  *want_actions = 0;  // mailsec never modifies a message
  *want_f2 = 0;
  *want_f3 = 0;
  // Which steps are skipped or unanswered is decided in negotiation.h (a burst of unanswered
  // steps costs 40 ms per message over TCP: read it before changing any callback's reply).
  const CallbackGate::Entry entry(g_gate);
  if (!entry) {  // stopping
    *want_steps = negotiateSteps(steps, false);
    return SMFIS_CONTINUE;
  }
  *want_steps = negotiateSteps(steps, g_state.authenticator != nullptr);
  // The session starts here, so that it knows what was negotiated; onConnect fills it in.
  try {
    auto session = newSession();
    const bool leading_space = (*want_steps & kHeaderLeadingSpace) != 0;
    g_last_leading_space.store(leading_space, std::memory_order_relaxed);
    session->setHeaderLeadingSpaceKept(leading_space);
    if (smfi_setpriv(ctx, session.get()) == MI_SUCCESS) session.release();
  } catch (const std::exception& e) {
    g_state.recorder->internalError(core::Component::kMilter);
    g_error_log.warning("milter: cannot follow a new connection: ", e.what(), "; mail unaffected");
  }
  for (const auto& [stage, macros] :
       {std::pair{SMFIM_CONNECT, StageMacros::kConnect}, std::pair{SMFIM_HELO, StageMacros::kHelo},
        std::pair{SMFIM_ENVFROM, StageMacros::kEnvFrom},
        std::pair{SMFIM_EOM, StageMacros::kEndOfMessage}}) {
    if (smfi_setsymlist(ctx, stage, const_cast<char*>(macros)) != MI_SUCCESS) {
      g_state.recorder->internalError(core::Component::kMilter);
      g_error_log.warning("milter: could not request macros for stage ", stage);
    }
  }
  return SMFIS_CONTINUE;
}

sfsistat onConnect(SMFICTX* ctx, char* /*hostname*/, _SOCK_ADDR* address) {
  const CallbackGate::Entry entry(g_gate);
  if (!entry) return SMFIS_NOREPLY;
  try {
    // The session was created at negotiation (it knows what was negotiated).
    if (MilterSession* session = sessionOf(ctx)) {
      session->connect(LibmilterMacros(ctx), address);
    } else {
      // A connection the MTA reused for another SMTP session (SMFIC_QUIT_NC): no new
      // negotiation; the MTA negotiated as it did last time.
      auto fresh = newSession();
      fresh->setHeaderLeadingSpaceKept(g_last_leading_space.load(std::memory_order_relaxed));
      fresh->connect(LibmilterMacros(ctx), address);
      if (smfi_setpriv(ctx, fresh.get()) == MI_SUCCESS) fresh.release();
    }
  } catch (const std::exception& e) {
    g_state.recorder->internalError(core::Component::kMilter);
    g_error_log.warning("milter: cannot follow a new session: ", e.what(), "; mail unaffected");
  }
  return SMFIS_NOREPLY;
}

sfsistat onHelo(SMFICTX* ctx, char* helo) {
  return guarded(ctx, "HELO", SMFIS_NOREPLY, [&](MilterSession& s) {
    s.helo(LibmilterMacros(ctx), helo == nullptr ? std::string_view() : std::string_view(helo));
  });
}

sfsistat onEnvFrom(SMFICTX* ctx, char** argv) {
  const std::string_view sender =
      argv != nullptr && argv[0] != nullptr ? std::string_view(argv[0]) : std::string_view();
  return guarded(ctx, "MAIL", SMFIS_NOREPLY,
                 [&](MilterSession& s) { s.envelopeFrom(LibmilterMacros(ctx), sender); });
}

sfsistat onUnknown(SMFICTX* ctx, const char* command) {
  return guarded(ctx, "unknown command", SMFIS_NOREPLY, [&](MilterSession& s) {
    s.unknownCommand(LibmilterMacros(ctx),
                     command == nullptr ? std::string_view() : std::string_view(command));
  });
}

// Headers arrive one by one; the session copies (bounded) what its consumers need.
sfsistat onHeader(SMFICTX* ctx, char* name, char* value) {
  return guarded(ctx, "header", SMFIS_NOREPLY, [&](MilterSession& s) {
    s.header(name == nullptr ? std::string_view() : std::string_view(name),
             value == nullptr ? std::string_view() : std::string_view(value));
  });
}

// Body chunks go to verification (DKIM hashing, CPU only) and are never kept.
// Answered at once (negotiation.h).
sfsistat onBody(SMFICTX* ctx, unsigned char* chunk, size_t size) {
  return guarded(ctx, "body", SMFIS_CONTINUE, [&](MilterSession& s) {
    if (chunk != nullptr) s.body(std::string_view(reinterpret_cast<const char*>(chunk), size));
  });
}

// DATA and end of headers read nothing, but are answered at once so that the MTA's bursts of
// unanswered steps end with an answer (negotiation.h).
sfsistat onData(SMFICTX* /*ctx*/) { return SMFIS_CONTINUE; }
sfsistat onEndOfHeaders(SMFICTX* /*ctx*/) { return SMFIS_CONTINUE; }

sfsistat onEndOfMessage(SMFICTX* ctx) {
  return guarded(ctx, "end of message", SMFIS_CONTINUE,
                 [&](MilterSession& s) { s.endOfMessage(LibmilterMacros(ctx)); });
}

sfsistat onAbort(SMFICTX* ctx) {
  return guarded(ctx, "abort", SMFIS_CONTINUE, [](MilterSession& s) { s.abortMessage(); });
}

sfsistat onClose(SMFICTX* ctx) {
  const CallbackGate::Entry entry(g_gate);
  if (!entry) return SMFIS_CONTINUE;  // stopping: the session goes with the process
  guarded(ctx, "close", SMFIS_CONTINUE, [](MilterSession& s) { s.close(); });
  delete sessionOf(ctx);
  smfi_setpriv(ctx, nullptr);
  return SMFIS_CONTINUE;
}

smfiDesc g_description = {
    const_cast<char*>("mailsec-milter"),
    SMFI_VERSION,
    0,  // no actions: observe only
    onConnect,
    onHelo,
    onEnvFrom,
    nullptr,  // envrcpt
    onHeader,
    onEndOfHeaders,
    onBody,
    onEndOfMessage,
    onAbort,
    onClose,
    onUnknown,
    onData,
    onNegotiate,
};

}  // namespace

std::string openLibmilterSocket(const config::Config& config) {
  const std::string& socket = config.milter.socket;
  if (smfi_setconn(const_cast<char*>(socket.c_str())) != MI_SUCCESS) {
    return "libmilter rejected the socket " + socket;
  }
  if (smfi_settimeout(static_cast<int>(config.milter.timeout_seconds)) != MI_SUCCESS) {
    return "libmilter rejected the timeout";
  }
  if (smfi_register(g_description) != MI_SUCCESS) return "libmilter refused to register";
  // Removes a stale unix socket left by an unclean stop.
  if (smfi_opensocket(true) != MI_SUCCESS) {
    return "cannot listen on " + socket + " (in use, or no permission?)";
  }
  g_state.socket_open = true;
  return "";
}

std::string setUpLibmilter(std::shared_ptr<const config::Config> config, core::Recorder& recorder,
                           core::auth::Authenticator* authenticator) {
  g_state.recorder = &recorder;
  g_state.authenticator = authenticator;
  if (!g_state.socket_open) {
    if (auto problem = openLibmilterSocket(*config); !problem.empty()) return problem;
  }
  g_state.config.store(std::move(config));
  return "";
}

void replaceConfig(std::shared_ptr<const config::Config> config) {
  g_state.config.store(std::move(config));
}

int runLibmilter() {
  const int status = smfi_main() == MI_SUCCESS ? 0 : 1;
  g_gate.close();
  return status;
}

}  // namespace mailsec::milter
