// store_recorder.h — the core::Recorder sink that files sessions, messages and suspected
// downgrades into the history store's daily rollups (through StoreWriter's bounded queue).
// Decides nothing: the peer identity and the downgrade signals come from core::peer.
//
// Input: summaries enriched by core::peer::PeerAnalyser; every column it writes is a
// closed-set spelling except the PSL-reduced peer domain. Thread-safety: safe from any thread.
// Never blocks on I/O (a full queue drops and counts), never throws.
#pragma once

#include "core/recorder.h"
#include "metrics/store/store_writer.h"

namespace mailsec::metrics::store {

class StoreRecorder final : public core::Recorder {
 public:
  StoreRecorder(StoreWriter& writer, StoreWriter::Clock clock)
      : writer_(writer), clock_(std::move(clock)) {}

  void sessionClosed(const core::SessionSummary& session) override;
  void messageReceived(const core::MessageSummary& message) override;
  void unknownCommand(core::Source, core::UnknownCommandSignature) override {}
  void inputError(core::Source, core::InputErrorKind) override {}
  void internalError(core::Component) override {}
  void downgradeSuspected(const core::DowngradeSuspicion& suspicion) override;
  void messageVerified(core::Source source, const core::auth::AuthVerdicts& verdicts) override;
  void receivedChain(const core::received::ChainObservation& chain) override;

  // The rows one observation adds to (public for tests and for policyd's own use).
  static SessionKey sessionKey(const core::SessionSummary& session, Day day);
  static MessageKey messageKey(const core::MessageSummary& message, Day day);
  // DKIM is one column: pass when any signature passed, else the first signature's result,
  // "none" without signatures; SPF and DMARC "none" when not evaluated.
  static AuthKey authKey(core::Source source, const core::auth::AuthVerdicts& verdicts, Day day);

 private:
  Day today(std::int64_t now) const;

  StoreWriter& writer_;
  StoreWriter::Clock clock_;
};

}  // namespace mailsec::metrics::store
