#include "milter/milter_session.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "fakes/recording_recorder.h"

namespace mailsec::milter {
namespace {

class MapMacros final : public MacroReader {
 public:
  MapMacros(std::initializer_list<std::pair<const std::string, std::string>> values)
      : values_(values) {}
  std::string_view get(const char* name) const override {
    const auto it = values_.find(name);
    return it == values_.end() ? std::string_view() : std::string_view(it->second);
  }

 private:
  std::map<std::string, std::string> values_;
};

std::shared_ptr<const config::Config> configWithMx(std::uint16_t port) {
  auto c = std::make_shared<config::Config>();
  c->port_classes.mx_ports = {port};
  return c;
}

TEST(MilterSession, PostfixStarttlsSessionWithVerifiedClientCertificate) {
  testing::RecordingRecorder recorder;
  MilterSession s(configWithMx(10025), recorder);
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  inet_pton(AF_INET, "192.0.2.7", &sin.sin_addr);
  s.connect(MapMacros{{"{daemon_port}", "10025"}, {"{daemon_name}", "mx.test"}},
            reinterpret_cast<const sockaddr*>(&sin));
  EXPECT_EQ(s.tracker().connectFacts().client_address, "192.0.2.7");
  s.helo(MapMacros{}, "client.test");  // before STARTTLS: no TLS macros
  const MapMacros tls({{"{tls_version}", "TLSv1.2"},
                       {"{cipher}", "ECDHE-RSA-AES256-GCM-SHA384"},
                       {"{cipher_bits}", "256"},
                       {"{cert_subject}", "client.test"},
                       {"{cert_issuer}", "Test CA"}});
  s.helo(tls, "client.test");
  s.envelopeFrom(MapMacros{{"i", "4ABC"}});  // Postfix's default MAIL macros: no TLS
  s.endOfMessage(MapMacros{{"i", "4ABC"}});
  s.close();

  ASSERT_EQ(recorder.sessions.size(), 1u);
  const auto& summary = recorder.sessions[0];
  EXPECT_EQ(summary.source, core::Source::kMilter);
  EXPECT_EQ(summary.port_class, core::PortClass::kMx);
  EXPECT_TRUE(summary.tls);
  EXPECT_EQ(summary.tls_profile.version, core::tls::Version::kTLSv1_2);
  EXPECT_EQ(summary.tls_profile.kex, core::tls::KeyExchange::kECDHE);
  EXPECT_EQ(summary.tls_profile.grade, core::tls::Grade::kRecommended);
  EXPECT_EQ(summary.client_certificate, core::ClientCertificate::kVerified);
  ASSERT_EQ(recorder.messages.size(), 1u);
  EXPECT_TRUE(recorder.messages[0].tls);
}

TEST(MilterSession, AConnectionOnlyNegotiatedIsNoSession) {
  // Sessions start at negotiation; one whose MTA went away before CONNECT counts nothing.
  testing::RecordingRecorder recorder;
  {
    MilterSession closed_early(configWithMx(25), recorder);
    closed_early.close();
    MilterSession dropped(configWithMx(25), recorder);
  }
  EXPECT_TRUE(recorder.sessions.empty());
}

TEST(MilterSession, TlsSeenOnlyAtMailStillCounts) {
  // A client that sends MAIL straight after STARTTLS, without a second EHLO.
  testing::RecordingRecorder recorder;
  MilterSession s(configWithMx(25), recorder);
  s.connect(MapMacros{}, nullptr);
  s.helo(MapMacros{}, "c");
  s.envelopeFrom(MapMacros{{"{tls_version}", "TLSv1.3"}, {"{cipher}", "TLS_AES_128_GCM_SHA256"}});
  s.endOfMessage(MapMacros{});
  s.close();
  ASSERT_EQ(recorder.sessions.size(), 1u);
  EXPECT_TRUE(recorder.sessions[0].tls);
  EXPECT_EQ(recorder.sessions[0].port_class, core::PortClass::kOther) << "no {daemon_port}";
}

TEST(MilterSession, SendmailUnknownCommandLineAndVerify) {
  testing::RecordingRecorder recorder;
  MilterSession s(configWithMx(25), recorder);
  s.connect(MapMacros{{"{daemon_port}", "25"}}, nullptr);
  s.unknownCommand(MapMacros{}, "XXXXXXXX arguments follow");
  s.helo(
      MapMacros{
          {"{tls_version}", "TLSv1.3"}, {"{cipher}", "TLS_AES_256_GCM_SHA384"}, {"{verify}", "NO"}},
      "c");
  s.close();
  ASSERT_EQ(recorder.unknown_commands.size(), 1u);
  EXPECT_EQ(recorder.unknown_commands[0].second, core::UnknownCommandSignature::kStarttlsMasked);
  EXPECT_EQ(recorder.sessions[0].client_certificate, core::ClientCertificate::kNone);
}

// The macros Debian's Sendmail 8.17 sent mailsec-milter (which requests its lists with
// smfi_setsymlist) in the integration tests, replayed stage by stage.
struct SendmailSession {
  const char* name;
  const char* daemon_name;
  const char* daemon_port;
  const char* cert_subject;
  const char* cert_issuer;
  const char* verify;
  core::PortClass want_port_class;
  core::ClientCertificate want_certificate;
};

TEST(MilterSession, SendmailMacrosAsObserved) {
  const SendmailSession cases[] = {
      {"MSA, verified client certificate", "MSA", "587", "/CN=client.mailsec.test",
       "/CN=mailsec+20Test+20CA", "OK", core::PortClass::kSubmission,
       core::ClientCertificate::kVerified},
      // Sendmail sends the DN of a certificate it could not verify, and says so in {verify}.
      {"MTA, self-signed client certificate", "MTA", "25", "/O=Nobody/CN=stranger.example",
       "/O=Nobody/CN=stranger.example", "FAIL", core::PortClass::kMx,
       core::ClientCertificate::kUnverified},
      // Asked for a certificate, the client presented none: empty DNs, not absent ones.
      {"MTA, no client certificate", "MTA", "25", "", "", "NO", core::PortClass::kMx,
       core::ClientCertificate::kNone},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    testing::RecordingRecorder recorder;
    auto config = std::make_shared<config::Config>();
    config->port_classes.mx_ports = {25};
    config->port_classes.submission_ports = {587};
    MilterSession s(config, recorder);
    s.connect(MapMacros{{"j", "mx.mailsec.test"},
                        {"{daemon_name}", c.daemon_name},
                        {"{daemon_port}", c.daemon_port},
                        {"{daemon_addr}", "127.0.0.1"},
                        {"{client_addr}", "127.0.0.1"},
                        {"{client_port}", "38130"},
                        {"{client_name}", "localhost"}},
              nullptr);
    s.helo(MapMacros{}, "client.mailsec.test");
    const MapMacros tls({{"{tls_version}", "TLSv1.3"},
                         {"{cipher}", "TLS_CHACHA20_POLY1305_SHA256"},
                         {"{cipher_bits}", "256"},
                         {"{cert_subject}", c.cert_subject},
                         {"{cert_issuer}", c.cert_issuer},
                         {"{verify}", c.verify}});
    s.helo(tls, "client.mailsec.test");
    s.envelopeFrom(tls);  // Sendmail's `i` (queue id) changes after STARTTLS; mailsec ignores it
    s.endOfMessage(tls);
    s.close();
    ASSERT_EQ(recorder.sessions.size(), 1u);
    EXPECT_EQ(recorder.sessions[0].port_class, c.want_port_class);
    EXPECT_TRUE(recorder.sessions[0].tls);
    EXPECT_EQ(recorder.sessions[0].tls_profile.version, core::tls::Version::kTLSv1_3);
    EXPECT_EQ(recorder.sessions[0].client_certificate, c.want_certificate);
    ASSERT_EQ(recorder.messages.size(), 1u);
    EXPECT_TRUE(recorder.input_errors.empty());
  }
}

TEST(MilterSession, ReceivedHeadersAndTheLiveHopMakeOneChainPerMessage) {
  testing::RecordingRecorder recorder;
  MilterSession s(configWithMx(25), recorder);
  s.connect(MapMacros{{"{daemon_port}", "25"}, {"j", "mx.test"}, {"{client_addr}", "192.0.2.9"}},
            nullptr);
  s.helo(MapMacros{}, "relay.test");
  const MapMacros tls({{"{tls_version}", "TLSv1.3"},
                       {"{cipher}", "TLS_AES_256_GCM_SHA384"},
                       {"{cipher_bits}", "256"}});
  s.helo(tls, "relay.test");
  s.envelopeFrom(MapMacros{{"i", "Q1"}});
  s.header("Subject", "hello");
  s.header("Received",
           " from origin.test (origin.test [192.0.2.1]) by relay.test with ESMTPA id 1;"
           " Mon, 4 Dec 2023 10:00:00 +0000");
  s.endOfMessage(MapMacros{{"i", "Q1"}});
  // A second message of the session, aborted: nothing is reported for it.
  s.envelopeFrom(MapMacros{{"i", "Q2"}});
  s.header("Received", " from x by y with SMTP; date");
  s.abortMessage();
  s.close();

  ASSERT_EQ(recorder.chains.size(), 1u);
  const auto& chain = recorder.chains[0];
  ASSERT_EQ(chain.hops.size(), 2u);
  EXPECT_EQ(chain.hops[0].position, core::received::HopPosition::kOrigin);
  EXPECT_EQ(chain.hops[0].protocol, core::received::Protocol::kESMTPA);
  EXPECT_EQ(chain.hops[0].tls, core::received::HopTls::kFalse);
  EXPECT_EQ(chain.hops[1].position, core::received::HopPosition::kInbound);
  EXPECT_EQ(chain.hops[1].protocol, core::received::Protocol::kESMTPS);
  EXPECT_EQ(chain.hops[1].tls_version, core::tls::Version::kTLSv1_3);
  EXPECT_EQ(chain.path, core::received::PathClass::kCleartextHop);
  EXPECT_EQ(chain.first_cleartext, core::received::HopPosition::kOrigin);
}

}  // namespace
}  // namespace mailsec::milter
