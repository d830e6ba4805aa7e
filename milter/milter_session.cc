#include "milter/milter_session.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include "core/peer_text.h"

namespace mailsec::milter {
namespace {

std::string addressText(const sockaddr* address) {
  if (address == nullptr) return "";
  char text[INET6_ADDRSTRLEN] = {};
  if (address->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(address);
    if (inet_ntop(AF_INET, &in->sin_addr, text, sizeof text) != nullptr) return text;
  } else if (address->sa_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(address);
    if (inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof text) != nullptr) return text;
  }
  return "";
}

}  // namespace

MilterSession::MilterSession(std::shared_ptr<const config::Config> config,
                             core::Recorder& recorder)
    : config_(std::move(config)),
      tracker_(core::Source::kMilter, config_->port_classes, recorder) {}

void MilterSession::connect(const MacroReader& macros, const sockaddr* address) {
  core::ConnectFacts facts;
  facts.daemon_name = std::string(macros.get("{daemon_name}"));
  facts.daemon_port = core::parsePort(macros.get("{daemon_port}"));
  facts.client_address = addressText(address);
  if (facts.client_address.empty()) facts.client_address = std::string(macros.get("{client_addr}"));
  tracker_.connected(facts);
}

void MilterSession::readTls(const MacroReader& macros) {
  core::TlsFacts facts;
  facts.version = std::string(macros.get("{tls_version}"));
  facts.cipher = std::string(macros.get("{cipher}"));
  facts.bits = std::string(macros.get("{cipher_bits}"));
  facts.cert_subject = std::string(macros.get("{cert_subject}"));
  facts.cert_issuer = std::string(macros.get("{cert_issuer}"));
  facts.verify = std::string(macros.get("{verify}"));
  tracker_.tlsReported(facts);
}

void MilterSession::helo(const MacroReader& macros, std::string_view helo) {
  tracker_.greeted(helo);
  readTls(macros);
}

void MilterSession::envelopeFrom(const MacroReader& macros) { readTls(macros); }

void MilterSession::unknownCommand(const MacroReader& macros, std::string_view command) {
  readTls(macros);
  tracker_.unknownCommand(command);
}

void MilterSession::endOfMessage(const MacroReader& macros) {
  readTls(macros);
  tracker_.messageEnded();
}

void MilterSession::close() { tracker_.closed(); }

}  // namespace mailsec::milter
