// peer_analyser.h — the core::Recorder in front of the sinks that decides who a session's
// peer is (peer_identity.h) and whether the session looks like a STARTTLS downgrade
// (downgrade.h), then passes the enriched summaries on and reports each suspicion with
// downgradeSuspected(); the message summaries that come with verdicts (messageVerified,
// verificationDropped) get the same identity. The front-ends stay unchanged; the sinks decide
// nothing.
//
// Input: summaries from SessionTracker (bounded, untrusted peer text). Thread-safety: safe
// from any thread (PeerHistory locks; the clock must be thread-safe). Never blocks on I/O,
// never throws (allocation failure aside).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>

#include "core/peer/downgrade.h"
#include "core/peer/public_suffix.h"
#include "core/recorder.h"

namespace mailsec::core::peer {

// Seconds since the Unix epoch; injected so tests control the day.
using Clock = std::function<std::int64_t()>;
std::int64_t systemClock();

class PeerAnalyser final : public Recorder {
 public:
  PeerAnalyser(const PublicSuffixList& psl, DowngradeThresholds thresholds, PeerHistory& history,
               Recorder& downstream, Clock clock = systemClock);

  void sessionClosed(const SessionSummary& session) override;
  void messageReceived(const MessageSummary& message) override;
  void unknownCommand(Source source, UnknownCommandSignature signature) override;
  void inputError(Source source, InputErrorKind kind) override;
  void internalError(Component component) override;
  void downgradeSuspected(const DowngradeSuspicion& suspicion) override;
  // The verdicts' message summary gets the same identity its messageReceived() got.
  void messageVerified(const MessageSummary& message, const auth::AuthVerdicts& verdicts) override;
  void verificationDropped(const MessageSummary& message) override;
  void authenticationResultsIgnored(Source source, std::size_t fields) override;
  // Received chains carry no peer identity: passed on unchanged (issue 3).
  void receivedChain(const received::ChainObservation& chain) override {
    downstream_.receivedChain(chain);
  }

 private:
  const PublicSuffixList& psl_;
  const DowngradeThresholds thresholds_;
  PeerHistory& history_;
  Recorder& downstream_;
  Clock clock_;
  std::atomic<Day> last_pruned_{0};
};

}  // namespace mailsec::core::peer
