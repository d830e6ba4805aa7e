// authenticator_test.cc — one message end to end through the Authenticator over a fake
// resolver: envelope → SPF, From → DMARC, DKIM verdicts (an unsigned message has none),
// trusted and untrusted Authentication-Results, drops when the queue is full, and that no
// local part reaches the recorder.
#include "core/auth/authenticator.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <thread>

#include "tests/unit/auth/fake_resolver.h"

namespace mailsec::core::auth {
namespace {

using testing::FakeResolver;

class VerdictRecorder final : public Recorder {
 public:
  void sessionClosed(const SessionSummary&) override {}
  void messageReceived(const MessageSummary&) override {}
  void unknownCommand(Source, UnknownCommandSignature) override {}
  void inputError(Source, InputErrorKind) override {}
  void internalError(Component) override { ++errors; }
  void messageVerified(const MessageSummary&, const AuthVerdicts& v) override {
    std::lock_guard lock(mutex);
    verdicts.push_back(v);
    changed.notify_all();
  }
  void verificationDropped(const MessageSummary&) override { ++dropped; }
  void authenticationResultsIgnored(Source, std::size_t fields) override { ignored += fields; }

  bool waitFor(std::size_t n) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, std::chrono::seconds(10), [&] { return verdicts.size() >= n; });
  }

  std::mutex mutex;
  std::condition_variable changed;
  std::vector<AuthVerdicts> verdicts;
  std::atomic<int> dropped{0};
  std::atomic<int> errors{0};
  std::atomic<std::size_t> ignored{0};
};

void world(FakeResolver& dns) {
  dns.txt("example.org", {"v=spf1 ip4:192.0.2.0/24 -all"});
  dns.txt("_dmarc.example.org", {"v=DMARC1; p=reject"});
}

void feed(MessageVerification& m, const char* from) {
  m.header("Received", " from x by y");
  m.header("From", from);
  m.header("Subject", " hello");
  m.body("Hello\r\n");
}

TEST(Authenticator, VerifiesSpfAndDmarcOfAMessage) {
  FakeResolver dns;
  world(dns);
  VerdictRecorder recorder;
  Authenticator auth(dns, recorder, Source::kMilter, {});
  auto m = auth.begin("192.0.2.7", "mail.example.org", "<Alice.Secret@example.org> SIZE=100");
  feed(*m, " Alice <alice.secret@example.org>");
  auth.submit(std::move(m));
  ASSERT_TRUE(recorder.waitFor(1));
  const AuthVerdicts& v = recorder.verdicts[0];
  EXPECT_EQ(v.source, VerdictSource::kVerified);
  ASSERT_TRUE(v.spf);
  EXPECT_EQ(v.spf->result, SpfResult::kPass);
  EXPECT_EQ(v.spf->domain, "example.org");
  EXPECT_TRUE(v.dkim.empty());
  ASSERT_TRUE(v.dmarc);
  EXPECT_EQ(v.dmarc->result, DmarcResult::kPass);
  EXPECT_EQ(v.dmarc->policy, DmarcPolicy::kReject);
  EXPECT_TRUE(v.dmarc->spf_aligned);
  EXPECT_EQ(authMethod(v), AuthMethod::kSpfOnly);
  ASSERT_EQ(v.records.size(), 2u);
  EXPECT_EQ(v.records[0].record, AuthRecord::kSpf);
  EXPECT_EQ(v.records[1].record, AuthRecord::kDmarc);
}

TEST(Authenticator, BounceChecksHeloAndSeveralFromFieldsSkipDmarc) {
  FakeResolver dns;
  world(dns);
  dns.txt("mail.example.org", {"v=spf1 ip4:192.0.2.7 -all"});
  VerdictRecorder recorder;
  Authenticator auth(dns, recorder, Source::kMilter, {});
  auto m = auth.begin("192.0.2.7", "mail.example.org", "<>");
  m->header("From", " a@example.org");
  m->header("From", " b@example.org");
  auth.submit(std::move(m));
  ASSERT_TRUE(recorder.waitFor(1));
  const AuthVerdicts& v = recorder.verdicts[0];
  ASSERT_TRUE(v.spf);
  EXPECT_EQ(v.spf->identity, SpfIdentity::kHelo);
  EXPECT_EQ(v.spf->result, SpfResult::kPass);
  EXPECT_FALSE(v.dmarc);
}

TEST(Authenticator, TrustedAuthenticationResultsReplaceVerification) {
  FakeResolver dns;
  world(dns);
  VerdictRecorder recorder;
  AuthenticatorOptions options;
  options.trusted_authserv_ids = {"mx.example.net"};
  Authenticator auth(dns, recorder, Source::kMilter, options);
  auto m = auth.begin("192.0.2.7", "mail.example.org", "<a@example.org>");
  m->header(
      "Authentication-Results",
      " mx.example.net; spf=fail smtp.mailfrom=example.org; dmarc=fail header.from=example.org");
  m->header("Authentication-Results", " forged.example; spf=pass smtp.mailfrom=example.org");
  feed(*m, " a@example.org");
  auth.submit(std::move(m));
  ASSERT_TRUE(recorder.waitFor(1));
  const AuthVerdicts& v = recorder.verdicts[0];
  EXPECT_EQ(v.source, VerdictSource::kAuthenticationResults);
  ASSERT_TRUE(v.spf);
  EXPECT_EQ(v.spf->result, SpfResult::kFail);
  EXPECT_EQ(recorder.ignored, 1u);
  EXPECT_EQ(dns.queries(), 0);  // nothing verified again
}

TEST(Authenticator, UntrustedAuthenticationResultsAreIgnoredAndCounted) {
  FakeResolver dns;
  world(dns);
  VerdictRecorder recorder;
  Authenticator auth(dns, recorder, Source::kMilter, {});
  auto m = auth.begin("192.0.2.7", "mail.example.org", "<a@example.org>");
  m->header("Authentication-Results", " forged.example; spf=pass smtp.mailfrom=example.org");
  feed(*m, " a@example.org");
  auth.submit(std::move(m));
  ASSERT_TRUE(recorder.waitFor(1));
  EXPECT_EQ(recorder.verdicts[0].source, VerdictSource::kVerified);
  EXPECT_EQ(recorder.ignored, 1u);
}

class BlockingResolver final : public Resolver {
 public:
  DnsAnswer query(std::string_view, std::uint16_t) override {
    std::unique_lock lock(mutex);
    released.wait(lock, [&] { return open; });
    DnsAnswer a;
    a.status = DnsStatus::kNxDomain;
    return a;
  }
  void release() {
    std::lock_guard lock(mutex);
    open = true;
    released.notify_all();
  }
  std::mutex mutex;
  std::condition_variable released;
  bool open = false;
};

TEST(Authenticator, FullQueueDropsAndCounts) {
  BlockingResolver dns;
  VerdictRecorder recorder;
  AuthenticatorOptions options;
  options.workers = 1;
  options.queue = 2;
  Authenticator auth(dns, recorder, Source::kMilter, options);
  for (int i = 0; i < 6; ++i) {
    auto m = auth.begin("192.0.2.7", "h.example.org", "<a@example.org>");
    feed(*m, " a@example.org");
    auth.submit(std::move(m));
  }
  // One is on the worker, two wait, three were dropped at once.
  EXPECT_GE(recorder.dropped, 3);
  dns.release();
  auth.stop(std::chrono::seconds(5));
  EXPECT_EQ(recorder.verdicts.size() + static_cast<std::size_t>(recorder.dropped.load()), 6u);
}

TEST(Authenticator, StopCutsRunningVerificationsShort) {
  // A resolver that never answers in time: without the stop guard, stop() would wait for
  // every lookup of the running verification.
  class SlowResolver final : public Resolver {
   public:
    DnsAnswer query(std::string_view, std::uint16_t) override {
      std::this_thread::sleep_for(std::chrono::milliseconds(700));
      DnsAnswer a;
      a.status = DnsStatus::kTimeout;
      return a;
    }
  } dns;
  VerdictRecorder recorder;
  AuthenticatorOptions options;
  options.workers = 1;
  options.contain_spf = false;
  Authenticator auth(dns, recorder, Source::kMilter, options);
  for (int i = 0; i < 3; ++i) {
    auto m = auth.begin("192.0.2.7", "h.example.org", "<a@example.org>");
    feed(*m, " a@example.org");
    auth.submit(std::move(m));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const auto start = std::chrono::steady_clock::now();
  auth.stop(std::chrono::milliseconds(100));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(1500));
  EXPECT_TRUE(recorder.verdicts.empty());
  EXPECT_EQ(recorder.dropped, 3);
}

}  // namespace
}  // namespace mailsec::core::auth
