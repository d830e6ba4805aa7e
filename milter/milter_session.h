// milter_session.h — one SMTP connection as the milter sees it: copies what libmilter hands
// over (macros, HELO, unknown commands, header fields) into core types and feeds core's
// SessionTracker and the per-message header consumers (ReceivedChainTracker; header() is the
// one place that dispatches a header, so another consumer is added beside it there).
// Decides nothing itself: what counts as a session, a TLS session, a message or a Received
// chain is core's. At end of message the chain is reported first, then the message (with its
// path class), whose summary is handed to verification with the message so that its verdicts
// are filed under the same peer.
//
// Input: MTA macros and peer strings, untrusted and bounded by core.
// Thread-safety: owned through smfi_setpriv; libmilter serialises one connection's callbacks.
// Errors: never throws for bad input; the libmilter glue catches anything else.
#pragma once

#include <sys/socket.h>

#include <memory>
#include <string>
#include <string_view>

#include "config/config.h"
#include "core/auth/authenticator.h"
#include "core/received/chain_tracker.h"
#include "core/recorder.h"
#include "core/session_tracker.h"
#include "milter/macro_reader.h"

namespace mailsec::milter {

// The macros mailsec reads at each stage (requested with smfi_setsymlist, so they arrive
// whatever the MTA's default lists are).
struct StageMacros {
  static constexpr const char* kConnect =
      "j {daemon_name} {daemon_port} {daemon_addr} {client_addr} {client_port} {client_name} "
      "{client_resolve}";
  static constexpr const char* kHelo =
      "{tls_version} {cipher} {cipher_bits} {cert_subject} {cert_issuer} {verify}";
  // TLS again at MAIL and end of message: a client may skip the EHLO after STARTTLS.
  static constexpr const char* kEnvFrom =
      "i {tls_version} {cipher} {cipher_bits} {cert_subject} {cert_issuer} {verify} {auth_type}";
  // {auth_type} again: Sendmail sets it at MAIL; the live Received hop needs it at the end.
  static constexpr const char* kEndOfMessage =
      "i {tls_version} {cipher} {cipher_bits} {cert_subject} {cert_issuer} {verify} {auth_type}";
};

class MilterSession {
 public:
  // `authenticator`: SPF/DKIM/DMARC verification of each message (null: off).
  MilterSession(std::shared_ptr<const config::Config> config, core::Recorder& recorder,
                core::auth::Authenticator* authenticator = nullptr);

  ~MilterSession() {
    if (!connected_) tracker_.abandoned();
  }
  MilterSession(const MilterSession&) = delete;
  MilterSession& operator=(const MilterSession&) = delete;

  void connect(const MacroReader& macros, const sockaddr* address);
  void helo(const MacroReader& macros, std::string_view helo);
  // `sender`: MAIL FROM's address as libmilter gives it (argv[0]); only its domain is kept.
  void envelopeFrom(const MacroReader& macros, std::string_view sender = {});
  void unknownCommand(const MacroReader& macros, std::string_view command);
  // Whether the MTA passes header values with their leading whitespace (SMFIP_HDR_LEADSPC was
  // negotiated). Without it the MTA drops the space after the colon, and DKIM's "simple" header
  // canonicalization needs it back: the conventional single space is restored for
  // verification.
  void setHeaderLeadingSpaceKept(bool kept) { header_leading_space_kept_ = kept; }
  // One header field of the current message (name and value as the MTA passes them).
  void header(std::string_view name, std::string_view value);
  // One chunk of the current message's body (fed to verification; never kept).
  void body(std::string_view chunk);
  void endOfMessage(const MacroReader& macros);
  // The current message was aborted (RSET, QUIT before end of data, lost connection).
  void abortMessage();
  void close();

  const core::SessionTracker& tracker() const { return tracker_; }

 private:
  void readTls(const MacroReader& macros);
  void readAuth(const MacroReader& macros);

  std::shared_ptr<const config::Config> config_;  // keeps the rules tracker_ refers to alive
  core::SessionTracker tracker_;
  core::received::ReceivedChainTracker received_;
  std::string host_name_;  // j: this MTA's name, for the live Received hop (bounded)
  std::string auth_type_;  // {auth_type} once the client authenticated (bounded)
  core::auth::Authenticator* authenticator_;
  // The current message's verification state: created at MAIL, fed headers and body, handed
  // to the pool at end of message, freed on abort or close.
  std::unique_ptr<core::auth::MessageVerification> verification_;
  bool header_leading_space_kept_ = false;
  bool connected_ = false;    // connect() came: close() counts an SMTP session
  std::string header_value_;  // scratch: a value with its leading space restored
};

}  // namespace mailsec::milter
