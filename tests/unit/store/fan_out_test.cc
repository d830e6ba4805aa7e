// The recorder chain forwards every Recorder method: FanOutRecorder to each sink, PeerAnalyser
// downstream. A method either one forgot would fall to the base class's no-op.
#include <gtest/gtest.h>

#include "core/peer/peer_analyser.h"
#include "metrics/fan_out_recorder.h"

namespace mailsec {
namespace {

class CountingRecorder final : public core::Recorder {
 public:
  void sessionClosed(const core::SessionSummary&) override { ++calls[0]; }
  void messageReceived(const core::MessageSummary&) override { ++calls[1]; }
  void unknownCommand(core::Source, core::UnknownCommandSignature) override { ++calls[2]; }
  void inputError(core::Source, core::InputErrorKind) override { ++calls[3]; }
  void internalError(core::Component) override { ++calls[4]; }
  void downgradeSuspected(const core::DowngradeSuspicion&) override { ++calls[5]; }
  void receivedChain(const core::received::ChainObservation&) override { ++calls[6]; }
  void messageVerified(const core::MessageSummary&, const core::auth::AuthVerdicts&) override {
    ++calls[7];
  }
  void verificationDropped(const core::MessageSummary&) override { ++calls[8]; }
  void authenticationResultsIgnored(core::Source, std::size_t) override { ++calls[9]; }
  int calls[10] = {};
};

void callEveryMethod(core::Recorder& r) {
  r.sessionClosed({});
  r.messageReceived({});
  r.unknownCommand(core::Source::kMilter, core::UnknownCommandSignature::kOther);
  r.inputError(core::Source::kMilter, core::InputErrorKind::kOther);
  r.internalError(core::Component::kOther);
  r.downgradeSuspected({});
  r.receivedChain({});
  r.messageVerified({}, {});
  r.verificationDropped({});
  r.authenticationResultsIgnored(core::Source::kMilter, 2);
}

TEST(RecorderChain, FanOutForwardsEveryMethodToEverySink) {
  CountingRecorder a, b;
  metrics::FanOutRecorder fan{&a, &b};
  callEveryMethod(fan);
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(a.calls[i], 1) << "method " << i;
    EXPECT_EQ(b.calls[i], 1) << "method " << i;
  }
}

TEST(RecorderChain, PeerAnalyserForwardsEveryMethod) {
  CountingRecorder sink;
  const core::peer::PublicSuffixList psl;
  core::peer::PeerHistory history(30, 10);
  core::peer::PeerAnalyser analyser(psl, {}, history, sink, [] { return std::int64_t{0}; });
  callEveryMethod(analyser);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(sink.calls[i], 1) << "method " << i;
}

}  // namespace
}  // namespace mailsec
