// prometheus_recorder.h — the core::Recorder that turns core's summaries into the
// catalogue's Prometheus counters. Decides nothing: every measurement decision is in core.
//
// Thread-safety: safe from any thread. Never throws, never blocks on I/O.
#pragma once

#include "core/recorder.h"
#include "metrics/catalogue.h"

namespace mailsec::metrics {

class PrometheusRecorder final : public core::Recorder {
 public:
  explicit PrometheusRecorder(Catalogue& catalogue) : catalogue_(catalogue) {}

  void sessionClosed(const core::SessionSummary& session) override;
  void messageReceived(const core::MessageSummary& message) override;
  void unknownCommand(core::Source source, core::UnknownCommandSignature signature) override;
  void inputError(core::Source source, core::InputErrorKind kind) override;
  void internalError(core::Component component) override;
  void downgradeSuspected(const core::DowngradeSuspicion& suspicion) override;
  void receivedChain(const core::received::ChainObservation& chain) override;
  void messageVerified(const core::MessageSummary& message,
                       const core::auth::AuthVerdicts& verdicts) override;
  void verificationDropped(const core::MessageSummary& message) override;
  void authenticationResultsIgnored(core::Source source, std::size_t fields) override;

 private:
  Catalogue& catalogue_;
};

}  // namespace mailsec::metrics
