// recording_recorder.h — a core::Recorder for unit tests that keeps everything it is told.
#pragma once

#include <mutex>
#include <utility>
#include <vector>

#include "core/recorder.h"

namespace mailsec::testing {

class RecordingRecorder final : public core::Recorder {
 public:
  void sessionClosed(const core::SessionSummary& s) override { sessions.push_back(s); }
  void messageReceived(const core::MessageSummary& m) override { messages.push_back(m); }
  void unknownCommand(core::Source source, core::UnknownCommandSignature signature) override {
    unknown_commands.emplace_back(source, signature);
  }
  void inputError(core::Source source, core::InputErrorKind kind) override {
    input_errors.emplace_back(source, kind);
  }
  void internalError(core::Component component) override { internal_errors.push_back(component); }
  void receivedChain(const core::received::ChainObservation& c) override { chains.push_back(c); }
  void downgradeSuspected(const core::DowngradeSuspicion& d) override { downgrades.push_back(d); }
  void messageVerified(const core::MessageSummary& m, const core::auth::AuthVerdicts& v) override {
    verified.emplace_back(m, v);
  }
  void verificationDropped(const core::MessageSummary& m) override { dropped.push_back(m); }

  std::vector<core::SessionSummary> sessions;
  std::vector<core::MessageSummary> messages;
  std::vector<std::pair<core::Source, core::UnknownCommandSignature>> unknown_commands;
  std::vector<std::pair<core::Source, core::InputErrorKind>> input_errors;
  std::vector<core::Component> internal_errors;
  std::vector<core::received::ChainObservation> chains;
  std::vector<core::DowngradeSuspicion> downgrades;
  std::vector<std::pair<core::MessageSummary, core::auth::AuthVerdicts>> verified;
  std::vector<core::MessageSummary> dropped;  // verificationDropped
};

}  // namespace mailsec::testing
