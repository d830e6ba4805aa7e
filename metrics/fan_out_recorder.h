// fan_out_recorder.h — one core::Recorder that hands every report to several sinks in order
// (Prometheus, the history store), so front-ends and core see a single recorder. Every
// Recorder method is forwarded: one left out here would be silently dropped (the base class's
// defaults do nothing) — fan_out_test checks each.
//
// Input: core's reports. Thread-safety: as safe as its sinks (each must be thread-safe); the
// sink list is fixed at construction. Errors: none of its own; sinks must not throw.
#pragma once

#include <initializer_list>
#include <vector>

#include "core/recorder.h"

namespace mailsec::metrics {

class FanOutRecorder final : public core::Recorder {
 public:
  FanOutRecorder(std::initializer_list<core::Recorder*> sinks) : sinks_(sinks) {}

  void sessionClosed(const core::SessionSummary& session) override {
    for (auto* s : sinks_) s->sessionClosed(session);
  }
  void messageReceived(const core::MessageSummary& message) override {
    for (auto* s : sinks_) s->messageReceived(message);
  }
  void unknownCommand(core::Source source, core::UnknownCommandSignature signature) override {
    for (auto* s : sinks_) s->unknownCommand(source, signature);
  }
  void inputError(core::Source source, core::InputErrorKind kind) override {
    for (auto* s : sinks_) s->inputError(source, kind);
  }
  void internalError(core::Component component) override {
    for (auto* s : sinks_) s->internalError(component);
  }
  void downgradeSuspected(const core::DowngradeSuspicion& suspicion) override {
    for (auto* s : sinks_) s->downgradeSuspected(suspicion);
  }
  void receivedChain(const core::received::ChainObservation& chain) override {
    for (auto* s : sinks_) s->receivedChain(chain);
  }
  void messageVerified(const core::MessageSummary& message,
                       const core::auth::AuthVerdicts& verdicts) override {
    for (auto* s : sinks_) s->messageVerified(message, verdicts);
  }
  void verificationDropped(const core::MessageSummary& message) override {
    for (auto* s : sinks_) s->verificationDropped(message);
  }
  void authenticationResultsIgnored(core::Source source, std::size_t fields) override {
    for (auto* s : sinks_) s->authenticationResultsIgnored(source, fields);
  }

 private:
  const std::vector<core::Recorder*> sinks_;
};

}  // namespace mailsec::metrics
