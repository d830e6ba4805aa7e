// recorder.h — the one interface through which core reports what it measured. Sinks
// (Prometheus families, the daily store, test fakes) implement it.
//
// Implementations must be thread-safe (front-ends call from many threads), must not block on
// I/O, and must not throw.
#pragma once

#include <cstddef>

#include "core/auth/verdicts.h"
#include "core/observation.h"
#include "core/received/chain_observation.h"

namespace mailsec::core {

class Recorder {
 public:
  virtual ~Recorder() = default;
  virtual void sessionClosed(const SessionSummary& session) = 0;
  virtual void messageReceived(const MessageSummary& message) = 0;
  virtual void unknownCommand(Source source, UnknownCommandSignature signature) = 0;
  virtual void inputError(Source source, InputErrorKind kind) = 0;
  virtual void internalError(Component component) = 0;
  // A suspected STARTTLS downgrade (core::peer::PeerAnalyser decides; sinks only count and
  // keep it). Not pure: sinks that do not care need not override it.
  virtual void downgradeSuspected(const DowngradeSuspicion& /*suspicion*/) {}
  // One message's Received chain (core::received::ReceivedChainTracker decides). Not pure.
  virtual void receivedChain(const received::ChainObservation& /*chain*/) {}
  // One message's SPF, DKIM and DMARC verdicts (core::auth::Authenticator, on its pool), with
  // the summary its messageReceived() had (verdicts_follow set; identity set again by
  // core::peer::PeerAnalyser). Exactly one of messageVerified() and verificationDropped()
  // follows each message handed to verification.
  virtual void messageVerified(const MessageSummary& /*message*/,
                               const auth::AuthVerdicts& /*verdicts*/) {}
  // A message handed to verification but not verified: the queue was full, the pool stopped
  // before (or while) running it, or the verification failed internally.
  virtual void verificationDropped(const MessageSummary& /*message*/) {}
  // Authentication-Results fields ignored: not from a trusted authserv-id (or over the cap).
  virtual void authenticationResultsIgnored(Source /*source*/, std::size_t /*fields*/) {}
};

}  // namespace mailsec::core
