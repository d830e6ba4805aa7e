// Tests of SessionBook: how the requests of Postfix's persistent policy connections become
// SMTP sessions and messages, each counted exactly once, with an injected clock.
#include "policyd/policy_sessions.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "fakes/recording_recorder.h"

namespace mailsec::policyd {
namespace {

using core::ClientCertificate;
using core::PortClass;
using testing::RecordingRecorder;
using namespace std::chrono_literals;

// The attributes of one request; the strings outlive the Request that views them.
struct Attrs {
  std::string state = "RCPT";
  std::string client = "192.0.2.10";
  std::string client_port = "40000";
  std::string server_port = "25";
  std::string helo = "client.example";
  std::string instance = "i1";
  std::string protocol, cipher, subject, fingerprint;
  std::string context;
  std::string client_name, sender;

  Request request() const {
    Request r;
    r.request = "smtpd_access_policy";
    r.protocol_state = state;
    r.client_address = client;
    r.client_port = client_port;
    r.server_address = "198.51.100.1";
    r.server_port = server_port;
    r.helo_name = helo;
    r.instance = instance;
    r.encryption_protocol = protocol;
    r.encryption_cipher = cipher;
    r.ccert_subject = subject;
    r.ccert_fingerprint = fingerprint;
    r.policy_context = context;
    r.client_name = client_name;
    r.sender = sender;
    return r;
  }
  Attrs& at(std::string s) {
    state = std::move(s);
    return *this;
  }
  Attrs& port(std::string p) {
    client_port = std::move(p);
    return *this;
  }
  Attrs& inst(std::string i) {
    instance = std::move(i);
    return *this;
  }
  Attrs& tls13() {
    protocol = "TLSv1.3";
    cipher = "TLS_AES_256_GCM_SHA384";
    return *this;
  }
};

class SessionBookTest : public ::testing::Test {
 protected:
  SessionBookTest() {
    rules_.mx_ports = {25};
    rules_.submission_ports = {587};
    rules_.submission_daemon_names = {"submission"};
  }

  core::PortClassRules rules_;
  RecordingRecorder recorder_;
  Clock::time_point t0_{};
};

TEST_F(SessionBookTest, ASessionEndsWhenItsConnectionCarriesTheNextClient) {
  SessionBook book(rules_, recorder_, 2000ms);
  Attrs a;
  a.tls13();
  book.request(1, a.at("RCPT").request());
  book.request(1, a.at("RCPT").request());  // a second recipient
  book.request(1, a.at("END-OF-MESSAGE").request());
  EXPECT_TRUE(recorder_.sessions.empty()) << "the session is still open";
  ASSERT_EQ(recorder_.messages.size(), 1u);
  EXPECT_TRUE(recorder_.messages[0].tls);
  EXPECT_EQ(recorder_.messages[0].source, core::Source::kPolicyd);
  EXPECT_EQ(recorder_.messages[0].port_class, PortClass::kMx);

  Attrs b;  // the same smtpd's next client
  b.port("40001");
  book.request(1, b.request());
  ASSERT_EQ(recorder_.sessions.size(), 1u);
  const auto& s = recorder_.sessions[0];
  EXPECT_EQ(s.source, core::Source::kPolicyd);
  EXPECT_TRUE(s.tls);
  EXPECT_EQ(s.port_class, PortClass::kMx);
  EXPECT_EQ(s.messages, 1u);
  EXPECT_EQ(s.tls_profile.version, core::tls::Version::kTLSv1_3);
  EXPECT_EQ(s.client_certificate, ClientCertificate::kNone);
  EXPECT_EQ(book.openSessions(), 1u);
  EXPECT_TRUE(recorder_.input_errors.empty());
}

TEST_F(SessionBookTest, OneMessagePerInstanceHoweverManyListsAskAtEndOfData) {
  SessionBook book(rules_, recorder_);
  Attrs a;
  book.request(1, a.at("END-OF-MESSAGE").inst("i1").request());
  book.request(1, a.at("END-OF-MESSAGE").inst("i1").request());
  book.request(1, a.at("RCPT").inst("i2").request());  // a rejected-before-DATA transaction
  book.request(1, a.at("DATA").inst("i3").request());
  book.request(1, a.at("END-OF-MESSAGE").inst("i3").request());
  book.closeAll();
  EXPECT_EQ(recorder_.messages.size(), 2u);
  ASSERT_EQ(recorder_.sessions.size(), 1u);
  EXPECT_EQ(recorder_.sessions[0].messages, 2u);
  EXPECT_FALSE(recorder_.sessions[0].tls);
}

TEST_F(SessionBookTest, PeerFactsForTheStore) {
  SessionBook book(rules_, recorder_);
  Attrs a;
  a.client_name = "mx1.example.net";
  book.request(1, a.at("CONNECT").request());
  a.sender = "Someone@Lists.Example.NET";
  book.request(1, a.at("MAIL").request());
  book.request(1, a.at("END-OF-MESSAGE").request());
  book.closeAll();
  ASSERT_EQ(recorder_.sessions.size(), 1u);
  EXPECT_EQ(recorder_.sessions[0].peer.client_name, "mx1.example.net");
  EXPECT_EQ(recorder_.sessions[0].peer.sender_domain, "lists.example.net") << "domain only";
  EXPECT_EQ(recorder_.sessions[0].peer.helo, "client.example");
  ASSERT_EQ(recorder_.messages.size(), 1u);
  EXPECT_EQ(recorder_.messages[0].peer.sender_domain, "lists.example.net");
}

TEST_F(SessionBookTest, StarttlsLaterInTheSessionMakesItTls) {
  SessionBook book(rules_, recorder_);
  Attrs a;
  book.request(1, a.at("CONNECT").request());  // smtpd_delay_reject = no: before STARTTLS
  book.request(1, a.at("EHLO").request());
  book.request(1, a.tls13().at("RCPT").request());
  book.closeAll();
  ASSERT_EQ(recorder_.sessions.size(), 1u);
  EXPECT_TRUE(recorder_.sessions[0].tls);
}

TEST_F(SessionBookTest, ClosedConnectionCountsItsSessionAfterTheGrace) {
  SessionBook book(rules_, recorder_, 2000ms);
  Attrs a;
  book.request(7, a.request());
  book.connectionClosed(7, t0_);
  EXPECT_EQ(book.detachedSessions(), 1u);
  EXPECT_EQ(book.expire(t0_ + 1999ms), t0_ + 2000ms);
  EXPECT_TRUE(recorder_.sessions.empty());
  EXPECT_EQ(book.expire(t0_ + 2000ms), std::nullopt);
  EXPECT_EQ(recorder_.sessions.size(), 1u);
  EXPECT_EQ(book.openSessions(), 0u);
  EXPECT_EQ(book.detachedSessions(), 0u);
}

TEST_F(SessionBookTest, ASessionContinuedOnANewConnectionWithinTheGraceCountsOnce) {
  // smtpd_policy_service_request_limit closed the connection in the middle of a session.
  SessionBook book(rules_, recorder_, 2000ms);
  Attrs a;
  book.request(1, a.at("RCPT").request());
  book.connectionClosed(1, t0_);
  book.request(2, a.tls13().at("END-OF-MESSAGE").request());
  EXPECT_EQ(book.detachedSessions(), 0u);
  book.expire(t0_ + 5000ms);
  EXPECT_TRUE(recorder_.sessions.empty());
  book.connectionClosed(2, t0_ + 6000ms);
  book.expire(t0_ + 8000ms);
  ASSERT_EQ(recorder_.sessions.size(), 1u);
  EXPECT_TRUE(recorder_.sessions[0].tls);
  EXPECT_EQ(recorder_.sessions[0].messages, 1u);
}

TEST_F(SessionBookTest, TwoPolicyConnectionsOfOneSmtpdShareTheSession) {
  // Two check_policy_service specs: smtpd keeps a connection to each.
  SessionBook book(rules_, recorder_, 2000ms);
  Attrs a;
  book.request(1, a.at("RCPT").request());
  book.request(2, a.at("END-OF-MESSAGE").request());
  book.connectionClosed(1, t0_);
  book.expire(t0_ + 3000ms);
  EXPECT_TRUE(recorder_.sessions.empty()) << "connection 2 still carries it";
  book.connectionClosed(2, t0_ + 3000ms);
  book.expire(t0_ + 5000ms);
  EXPECT_EQ(recorder_.sessions.size(), 1u);
  EXPECT_EQ(recorder_.messages.size(), 1u);
}

TEST_F(SessionBookTest, ConnectForAKnownKeyStartsANewSession) {
  SessionBook book(rules_, recorder_);
  Attrs a;
  book.request(1, a.at("CONNECT").request());
  book.request(1, a.at("CONNECT").request());  // two lists at CONNECT: still one session
  book.request(1, a.at("RCPT").request());
  book.request(2, a.at("CONNECT").request());  // the same address and port again
  EXPECT_EQ(recorder_.sessions.size(), 1u);
  book.closeAll();
  EXPECT_EQ(recorder_.sessions.size(), 2u);
}

TEST_F(SessionBookTest, ClientCertificatesFromSubjectAndFingerprint) {
  SessionBook book(rules_, recorder_);
  Attrs verified;
  verified.tls13().subject = "client.mailsec.test";
  verified.fingerprint = "AB:CD";
  book.request(1, verified.request());
  Attrs unverified;
  unverified.tls13().port("40001").fingerprint = "AB:CD";
  book.request(2, unverified.request());
  Attrs pubkey_only;
  pubkey_only.tls13().port("40002");
  Request r = pubkey_only.request();
  r.ccert_pubkey_fingerprint = "EF:01";
  book.request(3, r);
  book.closeAll();
  ASSERT_EQ(recorder_.sessions.size(), 3u);
  std::multiset<ClientCertificate> got;
  for (const auto& s : recorder_.sessions) got.insert(s.client_certificate);
  EXPECT_EQ(got, (std::multiset<ClientCertificate>{ClientCertificate::kVerified,
                                                   ClientCertificate::kUnverified,
                                                   ClientCertificate::kUnverified}));
}

TEST_F(SessionBookTest, PortClassFromServerPortOrPolicyContext) {
  SessionBook book(rules_, recorder_);
  Attrs sub;
  sub.server_port = "587";
  book.request(1, sub.request());
  Attrs named;
  named.port("40001").context = "submission";
  book.request(2, named.request());
  Attrs other;
  other.port("40002").server_port = "2525";
  book.request(3, other.request());
  book.closeAll();
  std::multiset<PortClass> got;
  for (const auto& s : recorder_.sessions) got.insert(s.port_class);
  EXPECT_EQ(got, (std::multiset<PortClass>{PortClass::kSubmission, PortClass::kSubmission,
                                           PortClass::kOther}));
}

TEST_F(SessionBookTest, HostileValuesAreBoundedAndReportedOnce) {
  SessionBook book(rules_, recorder_);
  Attrs a;
  a.helo = std::string(300, 'h');
  a.protocol = "TLSv9";
  a.cipher = "NOT-A-CIPHER";
  a.client = std::string(100000, '1');
  book.request(1, a.request());
  book.request(1, a.request());
  book.closeAll();
  ASSERT_EQ(recorder_.sessions.size(), 1u);
  std::multiset<core::InputErrorKind> got;
  for (const auto& [source, kind] : recorder_.input_errors) {
    EXPECT_EQ(source, core::Source::kPolicyd);
    got.insert(kind);
  }
  EXPECT_EQ(
      got, (std::multiset<core::InputErrorKind>{
               core::InputErrorKind::kHeloTooLong, core::InputErrorKind::kMacroTooLong,
               core::InputErrorKind::kTlsVersionUnknown, core::InputErrorKind::kTlsCipherUnknown}));
}

TEST_F(SessionBookTest, SessionsWaitingOutTheGraceAreBounded) {
  SessionBook book(rules_, recorder_, 60000ms);
  const std::size_t n = SessionBook::kMaxDetached + 10;
  for (std::size_t i = 0; i < n; ++i) {
    Attrs a;
    a.port(std::to_string(i));
    book.request(i, a.request());
    book.connectionClosed(i, t0_);
  }
  EXPECT_EQ(book.detachedSessions(), SessionBook::kMaxDetached);
  EXPECT_EQ(recorder_.sessions.size(), 10u);
  book.closeAll();
  EXPECT_EQ(recorder_.sessions.size(), n);
}

TEST_F(SessionBookTest, DestructionCountsWhatIsStillOpen) {
  {
    SessionBook book(rules_, recorder_);
    Attrs a;
    book.request(1, a.request());
    book.request(2, a.port("40001").request());
  }
  EXPECT_EQ(recorder_.sessions.size(), 2u);
}

}  // namespace
}  // namespace mailsec::policyd
