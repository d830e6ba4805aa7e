#include "core/session_tracker.h"

#include <gtest/gtest.h>

#include "fakes/recording_recorder.h"

namespace mailsec::core {
namespace {

using testing::RecordingRecorder;

class SessionTrackerTest : public ::testing::Test {
 protected:
  SessionTrackerTest() { rules_.mx_ports = {25}; }

  TlsFacts tls13() {
    TlsFacts f;
    f.version = "TLSv1.3";
    f.cipher = "TLS_AES_256_GCM_SHA384";
    f.bits = "256";
    return f;
  }

  PortClassRules rules_;
  RecordingRecorder recorder_;
};

TEST_F(SessionTrackerTest, CleartextSessionCountedOnceAtClose) {
  {
    SessionTracker t(Source::kMilter, rules_, recorder_);
    t.connected({"mx", 25, "192.0.2.1"});
    t.greeted("client.example");
    t.tlsReported(TlsFacts{});  // no TLS macros
    t.messageEnded();
    t.messageEnded();
    EXPECT_TRUE(recorder_.sessions.empty()) << "a session is counted at close, not before";
    t.closed();
    t.closed();  // idempotent
  }              // destructor must not count again
  ASSERT_EQ(recorder_.sessions.size(), 1u);
  EXPECT_FALSE(recorder_.sessions[0].tls);
  EXPECT_EQ(recorder_.sessions[0].port_class, PortClass::kMx);
  EXPECT_EQ(recorder_.sessions[0].messages, 2u);
  ASSERT_EQ(recorder_.messages.size(), 2u);
  EXPECT_FALSE(recorder_.messages[0].tls);
  EXPECT_TRUE(recorder_.input_errors.empty());
}

TEST_F(SessionTrackerTest, StarttlsMakesTheFinalStateTls) {
  SessionTracker t(Source::kMilter, rules_, recorder_);
  t.connected({"", 2587, ""});
  t.greeted("client.example");
  t.tlsReported(TlsFacts{});
  t.greeted("client.example");  // second EHLO after STARTTLS
  t.tlsReported(tls13());
  t.tlsReported(TlsFacts{});  // a later stage without macros does not undo TLS
  t.messageEnded();
  t.closed();
  ASSERT_EQ(recorder_.sessions.size(), 1u);
  const auto& s = recorder_.sessions[0];
  EXPECT_TRUE(s.tls);
  EXPECT_EQ(s.port_class, PortClass::kOther) << "2587 is not configured as any class";
  EXPECT_EQ(s.tls_profile.version, tls::Version::kTLSv1_3);
  EXPECT_EQ(s.tls_profile.cipher, tls::BulkCipher::kAES256GCM);
  EXPECT_EQ(s.client_certificate, ClientCertificate::kNone);
  ASSERT_EQ(recorder_.messages.size(), 1u);
  EXPECT_TRUE(recorder_.messages[0].tls);
}

TEST_F(SessionTrackerTest, DestructorClosesAnUnclosedSession) {
  { SessionTracker t(Source::kPolicyd, rules_, recorder_); }
  ASSERT_EQ(recorder_.sessions.size(), 1u);
  EXPECT_EQ(recorder_.sessions[0].source, Source::kPolicyd);
}

TEST_F(SessionTrackerTest, UnknownCommandsAreClassifiedImmediately) {
  SessionTracker t(Source::kMilter, rules_, recorder_);
  t.unknownCommand("XXXXXXXX");
  t.unknownCommand("STAR");
  t.unknownCommand("HELP ME");
  t.unknownCommand(std::string(600, 'A'));
  ASSERT_EQ(recorder_.unknown_commands.size(), 4u);
  EXPECT_EQ(recorder_.unknown_commands[0].second, UnknownCommandSignature::kStarttlsMasked);
  EXPECT_EQ(recorder_.unknown_commands[1].second, UnknownCommandSignature::kStarttlsTruncated);
  EXPECT_EQ(recorder_.unknown_commands[2].second, UnknownCommandSignature::kOther);
  ASSERT_EQ(recorder_.input_errors.size(), 1u);
  EXPECT_EQ(recorder_.input_errors[0].second, InputErrorKind::kCommandTooLong);
}

TEST_F(SessionTrackerTest, HostileHeloIsBoundedAndCountedOncePerKind) {
  SessionTracker t(Source::kMilter, rules_, recorder_);
  const std::string huge(10 * 1024, 'h');
  t.greeted(huge);
  t.greeted(huge);  // again after STARTTLS: still one error of that kind
  t.greeted("bad\x01\xff name");
  EXPECT_EQ(t.helo().size(), 10u);
  t.closed();
  ASSERT_EQ(recorder_.input_errors.size(), 2u);
  EXPECT_EQ(recorder_.input_errors[0].second, InputErrorKind::kHeloTooLong);
  EXPECT_EQ(recorder_.input_errors[1].second, InputErrorKind::kHeloInvalidBytes);
  EXPECT_EQ(recorder_.sessions.size(), 1u);
}

TEST_F(SessionTrackerTest, UnknownTlsNamesBecomeOtherAndAreCounted) {
  SessionTracker t(Source::kMilter, rules_, recorder_);
  TlsFacts f;
  f.version = "TLSv9";
  f.cipher = "ROT13-WITH-ENTHUSIASM";
  f.bits = "lots";
  t.tlsReported(f);
  t.closed();
  ASSERT_EQ(recorder_.sessions.size(), 1u);
  EXPECT_TRUE(recorder_.sessions[0].tls);
  EXPECT_EQ(recorder_.sessions[0].tls_profile.version, tls::Version::kOther);
  EXPECT_EQ(recorder_.sessions[0].tls_profile.cipher, tls::BulkCipher::kOther);
  EXPECT_EQ(recorder_.sessions[0].tls_profile.grade, tls::Grade::kOther);
  ASSERT_EQ(recorder_.input_errors.size(), 3u);
  EXPECT_EQ(recorder_.input_errors[0].second, InputErrorKind::kTlsVersionUnknown);
  EXPECT_EQ(recorder_.input_errors[1].second, InputErrorKind::kTlsCipherUnknown);
  EXPECT_EQ(recorder_.input_errors[2].second, InputErrorKind::kTlsBitsInvalid);
}

TEST_F(SessionTrackerTest, OverlongMacroIsTruncatedAndCounted) {
  SessionTracker t(Source::kMilter, rules_, recorder_);
  TlsFacts f = tls13();
  f.cert_subject = std::string(5000, 'c');
  t.tlsReported(f);
  t.closed();
  ASSERT_EQ(recorder_.input_errors.size(), 1u);
  EXPECT_EQ(recorder_.input_errors[0].second, InputErrorKind::kMacroTooLong);
  EXPECT_EQ(recorder_.sessions[0].client_certificate, ClientCertificate::kVerified);
}

struct CertCase {
  const char* name;
  TlsFacts facts;
  ClientCertificate want;
};

TEST(ClientCertificate, FromMtaFacts) {
  const auto facts = [](const char* subject, const char* verify, const char* fingerprint) {
    TlsFacts f;
    f.version = "TLSv1.3";
    f.cipher = "TLS_AES_128_GCM_SHA256";
    f.cert_subject = subject;
    f.verify = verify;
    f.cert_fingerprint = fingerprint;
    return f;
  };
  const CertCase cases[] = {
      {"postfix, verified CN", facts("client.example", "", ""), ClientCertificate::kVerified},
      {"postfix, none", facts("", "", ""), ClientCertificate::kNone},
      {"policyd, fingerprint only", facts("", "", "AB:CD"), ClientCertificate::kUnverified},
      {"sendmail OK", facts("/CN=client", "OK", ""), ClientCertificate::kVerified},
      {"sendmail FAIL", facts("/CN=client", "FAIL", ""), ClientCertificate::kUnverified},
      {"sendmail NO", facts("", "NO", ""), ClientCertificate::kNone},
      {"sendmail NOT", facts("", "NOT", ""), ClientCertificate::kNone},
      {"sendmail TEMP with subject", facts("/CN=x", "TEMP", ""), ClientCertificate::kUnknown},
      {"sendmail PROTOCOL without", facts("", "PROTOCOL", ""), ClientCertificate::kNone},
      {"no TLS at all", TlsFacts{}, ClientCertificate::kNone},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(SessionTracker::clientCertificate(c.facts), c.want)
        << c.name << ": got " << toLabel(SessionTracker::clientCertificate(c.facts)) << ", want "
        << toLabel(c.want);
  }
}

TEST_F(SessionTrackerTest, PeerFactsKeepOnlyTheSenderDomain) {
  struct Case {
    const char* sender;
    const char* want;
  };
  const Case cases[] = {
      {"<Someone@Mail.Example.ORG>", "mail.example.org"},
      {"someone@example.org", "example.org"},
      {"<@relay.example,@b.example:user@route.example>", "route.example"},
      {"<>", ""},
      {"", ""},
      {"no-at-sign", ""},
  };
  for (const auto& c : cases) {
    RecordingRecorder recorder;
    {
      SessionTracker t(Source::kMilter, rules_, recorder);
      ConnectFacts facts{"mx", 25, "192.0.2.1"};
      facts.client_name = "mx1.example.net";
      facts.client_resolve = "OK";
      t.connected(facts);
      t.greeted("helo.example.net");
      t.mailFrom(c.sender);
      t.messageEnded();
    }
    ASSERT_EQ(recorder.sessions.size(), 1u);
    const auto& peer = recorder.sessions[0].peer;
    EXPECT_EQ(peer.sender_domain, c.want) << c.sender;
    EXPECT_EQ(peer.client_name, "mx1.example.net");
    EXPECT_EQ(peer.client_resolve, "OK");
    EXPECT_EQ(peer.helo, "helo.example.net");
    ASSERT_EQ(recorder.messages.size(), 1u);
    EXPECT_EQ(recorder.messages[0].peer.sender_domain, c.want) << c.sender;
  }
}

TEST_F(SessionTrackerTest, MaskedAndTruncatedStarttlsAreTalliedPerSession) {
  {
    SessionTracker t(Source::kMilter, rules_, recorder_);
    t.connected({"mx", 25, "192.0.2.1"});
    t.unknownCommand("XXXXXXXX");
    t.unknownCommand("XXXXXXXX");
    t.unknownCommand("STARTTL");
    t.unknownCommand("FOO");
  }
  ASSERT_EQ(recorder_.sessions.size(), 1u);
  EXPECT_EQ(recorder_.sessions[0].starttls_masked, 2u);
  EXPECT_EQ(recorder_.sessions[0].starttls_truncated, 1u);
  EXPECT_EQ(recorder_.sessions[0].unknown_commands, 4u);
}

}  // namespace
}  // namespace mailsec::core
