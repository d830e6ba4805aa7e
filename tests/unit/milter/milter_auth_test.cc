// milter_auth_test.cc — the milter session's part of issue 4: the envelope (client address,
// HELO, MAIL FROM) starts a message's verification, headers and body feed it, end of message
// hands it to the pool, and an aborted message or a lost connection frees it unverified.
#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <condition_variable>
#include <map>
#include <mutex>

#include "milter/milter_session.h"
#include "tests/unit/auth/fake_resolver.h"

namespace mailsec::milter {
namespace {

class NoMacros final : public MacroReader {
 public:
  std::string_view get(const char*) const override { return {}; }
};

class VerdictRecorder final : public core::Recorder {
 public:
  void sessionClosed(const core::SessionSummary&) override {}
  void unknownCommand(core::Source, core::UnknownCommandSignature) override {}
  void inputError(core::Source, core::InputErrorKind) override {}
  void internalError(core::Component) override {}
  void messageReceived(const core::MessageSummary& m) override {
    std::lock_guard lock(mutex);
    received.push_back(m);
  }
  void messageVerified(const core::MessageSummary& m, const core::auth::AuthVerdicts& v) override {
    std::lock_guard lock(mutex);
    verdicts.push_back(v);
    summaries.push_back(m);
  }
  std::size_t count() {
    std::lock_guard lock(mutex);
    return verdicts.size();
  }
  std::mutex mutex;
  std::vector<core::auth::AuthVerdicts> verdicts;
  std::vector<core::MessageSummary> summaries;  // what came with each verdict
  std::vector<core::MessageSummary> received;   // messageReceived
};

class MilterAuth : public ::testing::Test {
 protected:
  MilterAuth() : auth_(dns_, recorder_, core::Source::kMilter, {}) {
    dns_.txt("example.org", {"v=spf1 ip4:192.0.2.0/24 -all"});
    dns_.txt("_dmarc.example.org", {"v=DMARC1; p=quarantine"});
  }

  void connect(MilterSession& s) {
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    inet_pton(AF_INET, "192.0.2.7", &sin.sin_addr);
    s.connect(NoMacros{}, reinterpret_cast<const sockaddr*>(&sin));
    s.helo(NoMacros{}, "mail.example.org");
  }
  void message(MilterSession& s) {
    s.envelopeFrom(NoMacros{}, "<alice@example.org>");
    s.header("From", " Alice <alice@example.org>");
    s.header("Subject", " hi");
    s.body("Hello\r\n");
  }
  // Stops the pool so that every submitted verification has reported.
  void settle() { auth_.stop(std::chrono::seconds(10)); }

  testing::FakeResolver dns_;
  VerdictRecorder recorder_;
  core::auth::Authenticator auth_;
  std::shared_ptr<const config::Config> config_ = std::make_shared<config::Config>();
};

TEST_F(MilterAuth, EndOfMessageHandsTheMessageToVerification) {
  MilterSession s(config_, recorder_, &auth_);
  connect(s);
  message(s);
  s.endOfMessage(NoMacros{});
  s.close();
  settle();
  ASSERT_EQ(recorder_.count(), 1u);
  const auto& v = recorder_.verdicts[0];
  ASSERT_TRUE(v.spf);
  EXPECT_EQ(v.spf->result, core::auth::SpfResult::kPass);
  EXPECT_EQ(v.spf->domain, "example.org");
  ASSERT_TRUE(v.dmarc);
  EXPECT_EQ(v.dmarc->result, core::auth::DmarcResult::kPass);
  EXPECT_EQ(v.dmarc->policy, core::auth::DmarcPolicy::kQuarantine);
  // The verdicts come with the summary the message was counted with: the store files them
  // under its peer and counts the message there, once.
  ASSERT_EQ(recorder_.received.size(), 1u);
  EXPECT_TRUE(recorder_.received[0].verdicts_follow);
  const auto& m = recorder_.summaries[0];
  EXPECT_TRUE(m.verdicts_follow);
  EXPECT_EQ(m.source, core::Source::kMilter);
  EXPECT_EQ(m.peer.helo, "mail.example.org");
  EXPECT_EQ(m.peer.sender_domain, "example.org") << "the domain, never the local part";
  EXPECT_EQ(m.path, recorder_.received[0].path);
  EXPECT_EQ(m.tls, recorder_.received[0].tls);
}

TEST_F(MilterAuth, AbortedMessageAndLostConnectionAreNotVerified) {
  MilterSession s(config_, recorder_, &auth_);
  connect(s);
  message(s);
  s.abortMessage();            // RSET: the message's state is gone
  s.endOfMessage(NoMacros{});  // (an MTA would not send this without MAIL; nothing to hand)
  message(s);
  s.endOfMessage(NoMacros{});  // the second message is verified
  message(s);
  s.close();  // connection lost mid-message
  settle();
  EXPECT_EQ(recorder_.count(), 1u);
}

TEST_F(MilterAuth, EachMessageOfASessionIsVerified) {
  MilterSession s(config_, recorder_, &auth_);
  connect(s);
  for (int i = 0; i < 3; ++i) {
    message(s);
    s.endOfMessage(NoMacros{});
  }
  s.close();
  settle();
  EXPECT_EQ(recorder_.count(), 3u);
}

TEST_F(MilterAuth, WithoutAnAuthenticatorNothingIsVerified) {
  MilterSession s(config_, recorder_);
  connect(s);
  message(s);
  s.endOfMessage(NoMacros{});
  s.close();
  settle();
  EXPECT_EQ(recorder_.count(), 0u);
  EXPECT_EQ(dns_.queries(), 0);
  ASSERT_EQ(recorder_.received.size(), 1u);
  EXPECT_FALSE(recorder_.received[0].verdicts_follow) << "counted at end of message";
}

}  // namespace
}  // namespace mailsec::milter
