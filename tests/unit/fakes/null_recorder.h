// null_recorder.h — a core::Recorder that drops every report (benchmarks, fuzz targets), except
// that it counts the hops of the Received chains it is given, so the work cannot be optimised
// away. Thread-safety: one user at a time.
#pragma once

#include <cstddef>

#include "core/recorder.h"

namespace mailsec::testing {

class NullRecorder final : public core::Recorder {
 public:
  void sessionClosed(const core::SessionSummary&) override {}
  void messageReceived(const core::MessageSummary&) override {}
  void unknownCommand(core::Source, core::UnknownCommandSignature) override {}
  void inputError(core::Source, core::InputErrorKind) override {}
  void internalError(core::Component) override {}
  void receivedChain(const core::received::ChainObservation& chain) override {
    hops += chain.hops.size();
  }

  std::size_t hops = 0;
};

}  // namespace mailsec::testing
