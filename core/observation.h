// observation.h — the plain data that MTA front-ends (milter, policyd) hand to core, and the
// summaries core hands to recorders. No MTA types, no metrics types.
//
// Strings here are bounded copies of MTA- or peer-supplied text (see peer_text.h); they are
// for analysis and debug logs, never for metric labels. Thread-safety: plain values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/closed_set.h"
#include "core/received/received_types.h"
#include "core/tls/tls_analyser.h"

namespace mailsec::core {

// Which front-end observed the traffic.
enum class Source : std::uint8_t { kMilter, kPolicyd };

// What the listening port is for, by the operator's configuration.
enum class PortClass : std::uint8_t { kMx, kSubmission, kOther };

// A yes/no label value.
enum class Flag : std::uint8_t { kFalse, kTrue };
constexpr Flag toFlag(bool b) { return b ? Flag::kTrue : Flag::kFalse; }

// The client certificate of a session, as far as the MTA tells.
enum class ClientCertificate : std::uint8_t {
  kNone,        // none presented (or not requested, or no TLS)
  kVerified,    // presented and verified against the MTA's CAs
  kUnverified,  // presented and failed verification
  kUnknown      // presented; the MTA did not say whether it verified
};

// The `verified` label of mailsec_client_certificates_total (only for presented certificates).
enum class CertVerified : std::uint8_t { kFalse, kTrue, kUnknown };

// Unknown SMTP commands: a firewall that masks STARTTLS (e.g. Cisco's "SMTP fixup") turns it
// into XXXXXXXX; one that truncates it leaves STAR… or …TTLS.
enum class UnknownCommandSignature : std::uint8_t { kStarttlsMasked, kStarttlsTruncated, kOther };

// What was wrong with peer- or MTA-supplied input (mailsec_input_errors_total{kind}).
enum class InputErrorKind : std::uint8_t {
  kHeloTooLong,           // HELO/EHLO argument longer than a domain may be (255)
  kHeloInvalidBytes,      // control characters or bytes outside printable ASCII
  kCommandTooLong,        // unknown command line longer than SMTP's 512-byte limit
  kMacroTooLong,          // an MTA macro value over its bound (truncated)
  kTlsVersionUnknown,     // {tls_version} not one mailsec knows
  kTlsCipherUnknown,      // {cipher} not in OpenSSL's table
  kTlsBitsInvalid,        // {cipher_bits} not a number
  kPolicyRequestInvalid,  // a malformed policy delegation request (policyd)
  kOther
};

// Internal failures by component (mailsec_errors_total{component}).
enum class Component : std::uint8_t { kMilter, kPolicyd, kCore, kMetrics, kConfig, kOther };

// The SMTP stage at which the MTA reported something (Postfix's policy protocol_state; Postfix
// 3.7 reports BDAT as DATA and END-OF-MESSAGE).
enum class SmtpStage : std::uint8_t {
  kConnect,
  kEhlo,
  kHelo,
  kMail,
  kRcpt,
  kData,
  kEndOfMessage,
  kVrfy,
  kEtrn,
  kOther
};

// Why a front-end closed an MTA's connection to it on its own (mailsec_policyd_connections_
// dropped_total{reason}); the MTA reconnects, and fails open if it cannot.
enum class ConnectionDrop : std::uint8_t {
  kTooManyConnections,  // over the configured maximum; closed at once
  kIdleTimeout,         // no request for the configured idle time
  kRequestTimeout,      // a request left incomplete for the configured time (a slow client)
  kInputFlood,          // too much input without a request boundary
  kOther
};

// Where a peer's organisation domain came from (store column peer_source): the forward-
// confirmed reverse name, the HELO name, the envelope sender's domain, or nothing usable.
enum class PeerDomainSource : std::uint8_t { kReverseDns, kHelo, kSender, kNone };

// Signals of a suspected STARTTLS downgrade (mailsec_downgrade_suspected_total{signal}):
// a peer whose history is TLS arrived in cleartext; a STARTTLS masked (XXXXXXXX) or truncated
// by a middlebox.
enum class DowngradeSignal : std::uint8_t {
  kCleartextFromTlsPeer,
  kStarttlsMasked,
  kStarttlsTruncated,
  kOther
};

// Who the peer says it is, as the MTA reports it: bounded, untrusted; for the store and
// downgrade detection, never for labels.
struct PeerFacts {
  // {client_name}: Postfix gives the forward-confirmed name or "unknown"; Sendmail the PTR name
  // ("[address]" when there is none) with its verdict in {client_resolve}.
  std::string client_name;
  std::string client_resolve;  // Sendmail: OK, FAIL, FORGED, TEMP; empty from Postfix
  std::string helo;            // the last HELO/EHLO argument
  std::string sender_domain;   // MAIL FROM's domain, lower case (never the local part)
};

// The peer's organisation domain (public-suffix reduced) and where it came from; filled by
// core::peer::PeerAnalyser before the summaries reach the sinks.
struct PeerIdentity {
  std::string domain;  // empty when source is kNone
  PeerDomainSource source = PeerDomainSource::kNone;
};

// One suspected STARTTLS downgrade: the signal (a metric label) and the peer (store only).
struct DowngradeSuspicion {
  Source source = Source::kMilter;
  DowngradeSignal signal = DowngradeSignal::kOther;
  PeerIdentity peer{};
};

// What the MTA tells at connection time.
struct ConnectFacts {
  std::string daemon_name;                   // {daemon_name}; Sendmail MTA/MSA, Postfix $myhostname
  std::optional<std::uint16_t> daemon_port;  // {daemon_port}: the port the client connected to
  std::string client_address;                // for history and SPF later; never a label
  std::string client_name{};                 // {client_name} (see PeerFacts)
  std::string client_resolve{};              // {client_resolve} (Sendmail)
};

// The TLS facts an MTA reports for a session (Postfix and Sendmail macros, policy attributes).
// All empty when the session is in cleartext.
struct TlsFacts {
  std::string version;           // {tls_version} / encryption_protocol
  std::string cipher;            // {cipher} / encryption_cipher
  std::string bits;              // {cipher_bits} / encryption_keysize (text as reported)
  std::string cert_subject;      // {cert_subject} / ccert_subject
  std::string cert_issuer;       // {cert_issuer} / ccert_issuer
  std::string verify;            // Sendmail's {verify}: OK, NO, NOT, FAIL, NONE, SOFTWARE, …
  std::string cert_fingerprint;  // policyd's ccert_fingerprint

  bool encrypted() const { return !version.empty() || !cipher.empty(); }
};

// One session as counted at close, by its final state.
struct SessionSummary {
  Source source = Source::kMilter;
  PortClass port_class = PortClass::kOther;
  bool tls = false;
  tls::Profile tls_profile;  // meaningful when tls
  ClientCertificate client_certificate = ClientCertificate::kNone;
  std::uint32_t messages = 0;
  std::uint32_t unknown_commands = 0;
  std::uint32_t starttls_masked = 0;     // unknown commands classified kStarttlsMasked
  std::uint32_t starttls_truncated = 0;  // unknown commands classified kStarttlsTruncated
  PeerFacts peer{};
  PeerIdentity identity{};  // set by core::peer::PeerAnalyser
};

// One message as counted at end of data. The verdicts of a verified message arrive later,
// from the verification pool, with a copy of this summary (Recorder::messageVerified or
// verificationDropped): `verdicts_follow` tells sinks that join them (the store) to count the
// message there rather than here, so that it is counted once.
struct MessageSummary {
  Source source = Source::kMilter;
  PortClass port_class = PortClass::kOther;
  bool tls = false;
  // The Received path's class (ReceivedChainTracker; kUnknown when the front-end sees no
  // headers, as policyd).
  received::PathClass path = received::PathClass::kUnknown;
  bool verdicts_follow = false;  // handed to verification: exactly one verdict report follows
  PeerFacts peer{};              // domains and host names only, never a local part
  PeerIdentity identity{};       // set by core::peer::PeerAnalyser
};

}  // namespace mailsec::core

MAILSEC_CLOSED_SET(mailsec::core::Source, "milter", "policyd");
MAILSEC_CLOSED_SET(mailsec::core::PortClass, "mx", "submission", "other");
MAILSEC_CLOSED_SET(mailsec::core::Flag, "false", "true");
MAILSEC_CLOSED_SET(mailsec::core::ClientCertificate, "none", "verified", "unverified", "unknown");
MAILSEC_CLOSED_SET(mailsec::core::CertVerified, "false", "true", "unknown");
MAILSEC_CLOSED_SET(mailsec::core::UnknownCommandSignature, "starttls_masked", "starttls_truncated",
                   "other");
MAILSEC_CLOSED_SET(mailsec::core::InputErrorKind, "helo_too_long", "helo_invalid_bytes",
                   "command_too_long", "macro_too_long", "tls_version_unknown",
                   "tls_cipher_unknown", "tls_bits_invalid", "policy_request_invalid", "other");
MAILSEC_CLOSED_SET(mailsec::core::Component, "milter", "policyd", "core", "metrics", "config",
                   "other");
MAILSEC_CLOSED_SET(mailsec::core::SmtpStage, "connect", "ehlo", "helo", "mail", "rcpt", "data",
                   "end_of_message", "vrfy", "etrn", "other");
MAILSEC_CLOSED_SET(mailsec::core::PeerDomainSource, "rdns", "helo", "sender", "none");
MAILSEC_CLOSED_SET(mailsec::core::DowngradeSignal, "cleartext_from_tls_peer", "starttls_masked",
                   "starttls_truncated", "other");
MAILSEC_CLOSED_SET(mailsec::core::ConnectionDrop, "too_many_connections", "idle_timeout",
                   "request_timeout", "input_flood", "other");
