#include "core/peer/peer_analyser.h"

#include <chrono>

#include "core/peer/peer_identity.h"

namespace mailsec::core::peer {

std::int64_t systemClock() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

PeerAnalyser::PeerAnalyser(const PublicSuffixList& psl, DowngradeThresholds thresholds,
                           PeerHistory& history, Recorder& downstream, Clock clock)
    : psl_(psl),
      thresholds_(thresholds),
      history_(history),
      downstream_(downstream),
      clock_(std::move(clock)) {}

void PeerAnalyser::sessionClosed(const SessionSummary& session) {
  SessionSummary enriched = session;
  enriched.identity = derivePeerIdentity(session.peer, psl_);
  const Day today = dayOf(clock_());
  // Once a day, forget what fell out of the window (cheap check; one thread wins).
  Day pruned = last_pruned_.load(std::memory_order_relaxed);
  if (pruned != today && last_pruned_.compare_exchange_strong(pruned, today)) {
    history_.prune(today);
  }
  const TlsHistory before = history_.window(enriched.identity, today);
  const auto signals = assessSession(enriched, before, thresholds_);
  if (thresholds_.trusts(enriched.identity.source)) {
    history_.add(enriched.identity, today, 1, enriched.tls ? 1 : 0);
  }
  downstream_.sessionClosed(enriched);
  for (const auto signal : signals) {
    downstream_.downgradeSuspected(DowngradeSuspicion{session.source, signal, enriched.identity});
  }
}

void PeerAnalyser::messageReceived(const MessageSummary& message) {
  MessageSummary enriched = message;
  enriched.identity = derivePeerIdentity(message.peer, psl_);
  downstream_.messageReceived(enriched);
}

void PeerAnalyser::unknownCommand(Source source, UnknownCommandSignature signature) {
  downstream_.unknownCommand(source, signature);
}

void PeerAnalyser::inputError(Source source, InputErrorKind kind) {
  downstream_.inputError(source, kind);
}

void PeerAnalyser::internalError(Component component) { downstream_.internalError(component); }

void PeerAnalyser::downgradeSuspected(const DowngradeSuspicion& suspicion) {
  downstream_.downgradeSuspected(suspicion);
}

void PeerAnalyser::messageVerified(const MessageSummary& message,
                                   const auth::AuthVerdicts& verdicts) {
  MessageSummary enriched = message;
  enriched.identity = derivePeerIdentity(message.peer, psl_);
  downstream_.messageVerified(enriched, verdicts);
}

void PeerAnalyser::verificationDropped(const MessageSummary& message) {
  MessageSummary enriched = message;
  enriched.identity = derivePeerIdentity(message.peer, psl_);
  downstream_.verificationDropped(enriched);
}

void PeerAnalyser::authenticationResultsIgnored(Source source, std::size_t fields) {
  downstream_.authenticationResultsIgnored(source, fields);
}

}  // namespace mailsec::core::peer
