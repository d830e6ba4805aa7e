#include "milter/milter_session.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <chrono>

#include "common/log.h"
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

// One line per message whose Received headers hit a cap or did not parse, rate-limited:
// a sender controls them.
log::RateLimited g_received_log(10, std::chrono::seconds(60));

constexpr std::size_t kMaxMacroCopy = core::SessionTracker::kMaxMacro;

std::string boundedMacro(std::string_view value) {
  return std::string(value.substr(0, std::min(value.size(), kMaxMacroCopy)));
}

}  // namespace

MilterSession::MilterSession(std::shared_ptr<const config::Config> config, core::Recorder& recorder,
                             core::auth::Authenticator* authenticator)
    : config_(std::move(config)),
      tracker_(core::Source::kMilter, config_->port_classes, recorder),
      received_(core::Source::kMilter, recorder),
      authenticator_(authenticator) {}

void MilterSession::connect(const MacroReader& macros, const sockaddr* address) {
  connected_ = true;
  core::ConnectFacts facts;
  facts.daemon_name = std::string(macros.get("{daemon_name}"));
  facts.daemon_port = core::parsePort(macros.get("{daemon_port}"));
  facts.client_address = addressText(address);
  if (facts.client_address.empty()) facts.client_address = std::string(macros.get("{client_addr}"));
  facts.client_name = std::string(macros.get("{client_name}"));
  facts.client_resolve = std::string(macros.get("{client_resolve}"));
  tracker_.connected(facts);
  host_name_ = boundedMacro(macros.get("j"));
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

void MilterSession::readAuth(const MacroReader& macros) {
  const std::string_view auth = macros.get("{auth_type}");
  if (!auth.empty()) auth_type_ = boundedMacro(auth);  // AUTH cannot be undone in a session
}

void MilterSession::envelopeFrom(const MacroReader& macros, std::string_view sender) {
  tracker_.mailFrom(sender);
  readTls(macros);
  readAuth(macros);
  received_.messageStarted();
  verification_.reset();
  if (authenticator_ != nullptr) {
    verification_ =
        authenticator_->begin(tracker_.connectFacts().client_address, tracker_.helo(), sender);
  }
}

void MilterSession::unknownCommand(const MacroReader& macros, std::string_view command) {
  readTls(macros);
  tracker_.unknownCommand(command);
}

void MilterSession::header(std::string_view name, std::string_view value) {
  received_.header(name, value);
  if (!verification_) return;
  if (header_leading_space_kept_) {
    verification_->header(name, value);
    return;
  }
  header_value_.assign(" ");
  header_value_.append(value);
  verification_->header(name, header_value_);
}

void MilterSession::body(std::string_view chunk) {
  if (verification_) verification_->body(chunk);
}

void MilterSession::endOfMessage(const MacroReader& macros) {
  readTls(macros);
  readAuth(macros);

  const core::TlsFacts& tls = tracker_.tlsFacts();
  core::received::LiveSession live;
  live.client_addr = tracker_.connectFacts().client_address;
  live.helo = tracker_.helo();
  live.by = host_name_;
  live.tls_version = tls.version;
  live.cipher = tls.cipher;
  live.cipher_bits = tls.bits;
  live.cert_subject = tls.cert_subject;
  live.cert_issuer = tls.cert_issuer;
  live.verify = tls.verify;
  live.auth_type = auth_type_;
  const core::received::ChainObservation chain = received_.messageEnded(live);
  if (chain.dropped_header_cap + chain.dropped_byte_cap + chain.malformed + chain.truncated > 0) {
    g_received_log.warning("milter: ", macros.get("i"), ": Received headers: ",
                           chain.dropped_header_cap + chain.dropped_byte_cap,
                           " over the per-message caps, ", chain.malformed, " malformed, ",
                           chain.truncated, " over the parser's bounds; mail unaffected");
  }
  // The message is counted with its path; a copy of its summary (peer facts: domains and
  // host names only) goes with the verification, whose verdicts are filed under it.
  const bool verify = verification_ != nullptr;
  core::MessageSummary message = tracker_.messageEnded(chain.path, verify);
  // The lookups and signature checks run on the pool; the MTA gets its reply at once.
  if (verify) authenticator_->submit(std::move(verification_), std::move(message));
}

void MilterSession::abortMessage() {
  received_.messageAborted();
  verification_.reset();
}

void MilterSession::close() {
  verification_.reset();
  // A session is created at negotiation; one whose connect never came is no SMTP session.
  if (connected_) {
    tracker_.closed();
  } else {
    tracker_.abandoned();
  }
}

}  // namespace mailsec::milter
