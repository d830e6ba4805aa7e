// authenticator.h — SPF, DKIM and DMARC verdicts for every message, verified off the SMTP
// path (issue 4). One Authenticator per process owns the libraries (libopendkim bound to the
// Resolver, libopendmarc with the public suffix list) and the bounded verification pool; each
// message gets a MessageVerification that the front-end feeds while the message streams
// (envelope, header fields, body chunks — CPU only) and hands back at end of message, after
// which the DNS lookups and signature checks run on the pool and the verdicts go to the
// Recorder (messageVerified, with the message's summary from end of message, so sinks can file
// the verdicts under its peer). A full queue drops the verification (verificationDropped).
//
// Trusted Authentication-Results (config auth.trusted_authserv_ids): when a field from a
// trusted authserv-id is present, its verdicts are recorded instead of verifying again;
// fields from any other id are ignored and counted (authenticationResultsIgnored).
//
// Privacy: the MAIL FROM local part lives only in the MessageVerification (libspf2's %{l}
// macros need it) and is gone when the verification ends; verdicts keep domains only.
// Memory per message is bounded: header fields (count and bytes) and body bytes fed to DKIM
// are capped (DkimLimits), A-R fields are capped (kMaxAuthResultsFields).
//
// Trusts nothing it is fed. Thread-safety: begin()/submit() from any thread; one
// MessageVerification is used by one thread at a time (the milter serialises a connection's
// callbacks; the pool thread takes it over at submit). Construct only after the signals
// libmilter owns are blocked (pool threads). Errors: never throws out of feeding or
// verification for content or DNS (an unexpected exception on the pool is counted as an
// internal error); the constructor throws std::runtime_error when a library cannot start.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/auth/dkim_library.h"
#include "core/auth/dkim_verifier.h"
#include "core/auth/dmarc_verifier.h"
#include "core/auth/resolver.h"
#include "core/auth/spf_sandbox.h"
#include "core/auth/spf_verifier.h"
#include "core/auth/verdicts.h"
#include "core/auth/verification_pool.h"
#include "core/recorder.h"

namespace mailsec::core::auth {

struct AuthenticatorOptions {
  std::size_t workers = 2;
  std::size_t queue = 1000;
  std::vector<std::string> trusted_authserv_ids;
  std::string public_suffix_list = kPublicSuffixList;
  DkimLimits dkim_limits;
  // Run libspf2 in an unprivileged child process (each verification thread's long-lived
  // SpfSandbox, spf_sandbox.h). Off only for
  // measurements of the in-process cost.
  bool contain_spf = true;
};

inline constexpr std::size_t kMaxAuthResultsFields = 32;
inline constexpr std::size_t kMaxAuthResultsBytes = 16384;
inline constexpr std::size_t kMaxEnvelopeText = 512;

class Authenticator;

class MessageVerification {
 public:
  MessageVerification(Authenticator& authenticator, SpfRequest envelope);
  ~MessageVerification();
  MessageVerification(const MessageVerification&) = delete;
  MessageVerification& operator=(const MessageVerification&) = delete;

  void header(std::string_view name, std::string_view value);
  void body(std::string_view chunk);

  // Everything concluded (DNS lookups, signature checks): call once, on the pool.
  AuthVerdicts finish();

  // Untrusted Authentication-Results fields seen (known after finish()).
  std::size_t ignoredAuthResults() const { return ignored_auth_results_; }

 private:
  void endOfHeaders();

  Authenticator& authenticator_;
  SpfRequest envelope_;
  std::optional<DkimVerifier> dkim_;
  bool headers_ended_ = false;
  std::size_t from_fields_ = 0;
  std::string from_domain_;
  std::vector<std::string> auth_results_;  // bounded copies of Authentication-Results values
  std::size_t ignored_auth_results_ = 0;
};

// The Resolver the verifiers use: the real one until stop(), then an immediate timeout, so
// verifications still running at shutdown end at once instead of after their lookups.
class StoppableResolver final : public Resolver {
 public:
  explicit StoppableResolver(Resolver& resolver) : resolver_(resolver) {}
  DnsAnswer query(std::string_view name, std::uint16_t type) override;
  void stop() { stopped_ = true; }
  bool stopped() const { return stopped_; }

 private:
  Resolver& resolver_;
  std::atomic<bool> stopped_{false};
};

class Authenticator {
 public:
  Authenticator(Resolver& resolver, Recorder& recorder, Source source,
                AuthenticatorOptions options);
  ~Authenticator();  // stops the pool (drains for a few seconds)
  Authenticator(const Authenticator&) = delete;
  Authenticator& operator=(const Authenticator&) = delete;

  // A new message: the envelope (client address, HELO, MAIL FROM without <>).
  std::unique_ptr<MessageVerification> begin(std::string_view client_address, std::string_view helo,
                                             std::string_view mail_from);
  // Hands a fed message to the pool with the summary its messageReceived() reported (peer
  // facts: domains only); the verdicts are reported with it (messageVerified), or a drop
  // (verificationDropped) when the queue is full, the pool stops first, or the verification
  // fails: exactly one report per submitted message. Never blocks.
  void submit(std::unique_ptr<MessageVerification> message, MessageSummary summary = {});
  // Stops accepting; waits up to `drain` for queued verifications. Idempotent.
  void stop(std::chrono::milliseconds drain = VerificationPool::kDefaultDrain);

  Resolver& resolver() { return guarded_; }
  bool stopping() const { return guarded_.stopped(); }
  DkimLibrary& dkim() { return dkim_; }
  const DmarcLibrary& dmarc() const { return dmarc_; }
  const AuthenticatorOptions& options() const { return options_; }
  Recorder& recorder() { return recorder_; }
  Source source() const { return source_; }

 private:
  StoppableResolver guarded_;
  Recorder& recorder_;
  Source source_;
  AuthenticatorOptions options_;
  DkimLibrary dkim_;
  DmarcLibrary dmarc_;
  VerificationPool pool_;  // last: its threads stop before the libraries go
};

}  // namespace mailsec::core::auth
