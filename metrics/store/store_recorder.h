// store_recorder.h — the core::Recorder sink that files sessions, messages and suspected
// downgrades into the history store's daily rollups (through StoreWriter's bounded queue).
// Decides nothing: the peer identity and the downgrade signals come from core::peer.
//
// A message is one message_rollups count, with its peer, path and verdicts: a message handed
// to verification (MessageSummary::verdicts_follow) is counted when its verdicts arrive
// (messageVerified, which also adds its auth_rollups row) or, with verdicts "unknown", when
// its verification is dropped; any other message at messageReceived, verdicts "unknown". The
// Authenticator reports exactly one of the two per verified message, so none is counted twice
// and none waits in the store (kill -9 loses a verification still on the pool).
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
  void messageVerified(const core::MessageSummary& message,
                       const core::auth::AuthVerdicts& verdicts) override;
  void verificationDropped(const core::MessageSummary& message) override;
  void receivedChain(const core::received::ChainObservation& chain) override;

  // The rows one observation adds to (public for tests and for policyd's own use).
  static SessionKey sessionKey(const core::SessionSummary& session, Day day);
  static MessageKey messageKey(const core::MessageSummary& message, Day day);
  // messageKey() with the verdict columns as authKey() spells them.
  static MessageKey verifiedMessageKey(const core::MessageSummary& message,
                                       const core::auth::AuthVerdicts& verdicts, Day day);
  // DKIM is one column: pass when any signature passed, else the first signature's result,
  // "none" without signatures; SPF and DMARC "none" when not evaluated.
  static AuthKey authKey(core::Source source, const core::auth::AuthVerdicts& verdicts, Day day);

 private:
  Day today(std::int64_t now) const;

  StoreWriter& writer_;
  StoreWriter::Clock clock_;
};

}  // namespace mailsec::metrics::store
