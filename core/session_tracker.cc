#include "core/session_tracker.h"

#include "core/peer_text.h"
#include "core/unknown_command.h"

namespace mailsec::core {

SessionTracker::SessionTracker(Source source, const PortClassRules& rules, Recorder& recorder)
    : source_(source), rules_(rules), recorder_(recorder) {}

SessionTracker::~SessionTracker() { closed(); }

void SessionTracker::reportOnce(InputErrorKind kind) {
  const auto bit = 1u << static_cast<unsigned>(kind);
  if ((reported_errors_ & bit) != 0) return;
  reported_errors_ |= bit;
  recorder_.inputError(source_, kind);
}

std::string SessionTracker::boundedMacro(std::string_view value) {
  bool truncated = false;
  std::string copy = boundedCopy(value, kMaxMacro, &truncated);
  if (truncated) reportOnce(InputErrorKind::kMacroTooLong);
  return copy;
}

void SessionTracker::connected(const ConnectFacts& facts) {
  connect_.daemon_name = boundedMacro(facts.daemon_name);
  connect_.daemon_port = facts.daemon_port;
  connect_.client_address = boundedMacro(facts.client_address);
  connect_.client_name = boundedMacro(facts.client_name);
  connect_.client_resolve = boundedMacro(facts.client_resolve);
  port_class_ = classifyPort(rules_, connect_.daemon_name, connect_.daemon_port);
}

void SessionTracker::greeted(std::string_view helo) {
  bool truncated = false;
  helo_ = boundedCopy(helo, kMaxHelo, &truncated);
  if (truncated) reportOnce(InputErrorKind::kHeloTooLong);
  if (!isPrintableAscii(helo_)) reportOnce(InputErrorKind::kHeloInvalidBytes);
}

void SessionTracker::tlsReported(const TlsFacts& facts) {
  if (!facts.encrypted()) return;
  tls_ = true;
  const auto update = [this](std::string& field, const std::string& value) {
    if (!value.empty()) field = boundedMacro(value);
  };
  update(tls_facts_.version, facts.version);
  update(tls_facts_.cipher, facts.cipher);
  update(tls_facts_.bits, facts.bits);
  update(tls_facts_.cert_subject, facts.cert_subject);
  update(tls_facts_.cert_issuer, facts.cert_issuer);
  update(tls_facts_.verify, facts.verify);
  update(tls_facts_.cert_fingerprint, facts.cert_fingerprint);
}

void SessionTracker::unknownCommand(std::string_view line) {
  ++unknown_commands_;
  if (line.size() > kMaxCommand) reportOnce(InputErrorKind::kCommandTooLong);
  const auto signature = classifyUnknownCommand(line.substr(0, kMaxCommand));
  if (signature == UnknownCommandSignature::kStarttlsMasked) ++starttls_masked_;
  if (signature == UnknownCommandSignature::kStarttlsTruncated) ++starttls_truncated_;
  recorder_.unknownCommand(source_, signature);
}

void SessionTracker::mailFrom(std::string_view sender) {
  // <local@domain> with optional ESMTP parameters already split off by the MTA; a source
  // route (<@a,@b:local@domain>) ends in the same "@domain". Only the domain is kept.
  if (!sender.empty() && sender.front() == '<') sender.remove_prefix(1);
  if (!sender.empty() && sender.back() == '>') sender.remove_suffix(1);
  const auto at = sender.rfind('@');
  sender_domain_ = at == std::string_view::npos
                       ? std::string()
                       : asciiLower(boundedCopy(sender.substr(at + 1), kMaxHelo, nullptr));
}

PeerFacts SessionTracker::peerFacts() const {
  PeerFacts peer;
  peer.client_name = connect_.client_name;
  peer.client_resolve = connect_.client_resolve;
  peer.helo = helo_;
  peer.sender_domain = sender_domain_;
  return peer;
}

MessageSummary SessionTracker::messageEnded(received::PathClass path, bool verdicts_follow) {
  ++messages_;
  MessageSummary message;
  message.source = source_;
  message.port_class = port_class_;
  message.tls = tls_;
  message.path = path;
  message.verdicts_follow = verdicts_follow;
  message.peer = peerFacts();
  recorder_.messageReceived(message);
  return message;
}

ClientCertificate SessionTracker::clientCertificate(const TlsFacts& facts) {
  if (!facts.encrypted()) return ClientCertificate::kNone;
  const std::string verify = asciiLower(facts.verify);
  if (!verify.empty()) {
    // Sendmail's {verify}: OK verified; FAIL presented but rejected by verification;
    // NO none presented; NOT not requested; NONE no STARTTLS; SOFTWARE, PROTOCOL, TEMP an error
    // during the handshake, after which a subject tells that a certificate was presented.
    if (verify == "ok") return ClientCertificate::kVerified;
    if (verify == "fail") return ClientCertificate::kUnverified;
    if (verify == "no" || verify == "not" || verify == "none") return ClientCertificate::kNone;
    return facts.cert_subject.empty() ? ClientCertificate::kNone : ClientCertificate::kUnknown;
  }
  // Postfix: {cert_subject} / ccert_subject are set only for a verified certificate;
  // ccert_fingerprint is set for any presented certificate.
  if (!facts.cert_subject.empty()) return ClientCertificate::kVerified;
  if (!facts.cert_fingerprint.empty()) return ClientCertificate::kUnverified;
  return ClientCertificate::kNone;
}

void SessionTracker::closed() {
  if (closed_) return;
  closed_ = true;
  SessionSummary summary;
  summary.source = source_;
  summary.port_class = port_class_;
  summary.tls = tls_;
  summary.messages = messages_;
  summary.unknown_commands = unknown_commands_;
  summary.starttls_masked = starttls_masked_;
  summary.starttls_truncated = starttls_truncated_;
  summary.peer = peerFacts();
  if (tls_) {
    summary.tls_profile = tls::analyse(tls_facts_.version, tls_facts_.cipher);
    summary.client_certificate = clientCertificate(tls_facts_);
    if (!tls_facts_.version.empty() && summary.tls_profile.version == tls::Version::kOther) {
      reportOnce(InputErrorKind::kTlsVersionUnknown);
    }
    if (!tls_facts_.cipher.empty() && !summary.tls_profile.cipher_known) {
      reportOnce(InputErrorKind::kTlsCipherUnknown);
    }
    if (!tls_facts_.bits.empty() && !parseUnsigned(tls_facts_.bits)) {
      reportOnce(InputErrorKind::kTlsBitsInvalid);
    }
  }
  recorder_.sessionClosed(summary);
}

}  // namespace mailsec::core
