// received_types.h — the closed value sets of Received-chain analysis: the WITH protocol of a
// hop, whether the hop was encrypted, where in the path it sat, and the class of a whole path.
//
// These sets become Prometheus labels (`mailsec_received_hops_total{position, protocol, tls}`,
// `mailsec_message_paths_total{path}`) and JSON values of mailsec-inspect: values and
// spellings are a contract (docs/received.md, docs/metrics.md) — extend, never rename.
// Anything a header says that is not in a set maps to `other` (a WITH clause we do not know)
// or `unknown` (nothing said), never to a peer-supplied string.
//
// Trusts: nothing (constants only). Thread-safety: constants only. Errors: none.
#pragma once

#include <cstdint>

#include "core/closed_set.h"

namespace mailsec::core::received {

// The WITH protocol of a hop. The first seventeen are the IANA "Mail Transmission Types"
// registry (RFC 3848, RFC 6531); the rest are forms found in real mail.
enum class Protocol : std::uint8_t {
  kSMTP,
  kESMTP,
  kESMTPA,
  kESMTPS,
  kESMTPSA,
  kLMTP,
  kLMTPA,
  kLMTPS,
  kLMTPSA,
  kUTF8SMTP,
  kUTF8SMTPA,
  kUTF8SMTPS,
  kUTF8SMTPSA,
  kUTF8LMTP,
  kUTF8LMTPA,
  kUTF8LMTPS,
  kUTF8LMTPSA,
  kSMTPS,     // Google's "with SMTPS" (implicit TLS)
  kHTTP,      // webmail over HTTP
  kHTTPS,     // webmail / Exchange Online over HTTPS
  kLocal,     // Exim "local", "local-esmtp", qmail "invoked by uid": a local program submitted it
  kMAPI,      // Exchange "with mapi"
  kIMAP,      // fetchmail "with IMAP"
  kPOP3,      // fetchmail "with POP3"
  kExchange,  // "with Microsoft SMTP Server" (Exchange, Exchange Online)
  kSMTPSVC,   // "with Microsoft SMTPSVC" (IIS SMTP service)
  kOther,     // a WITH clause that is none of the above
  kUnknown,   // no WITH clause
};

// Whether a hop was encrypted, as far as its Received header (or live session) tells.
enum class HopTls : std::uint8_t { kTrue, kFalse, kUnknown };

// Whether the client of a hop authenticated (SMTP AUTH, ESMTPA…), as far as the header tells.
enum class HopAuth : std::uint8_t { kTrue, kFalse, kUnknown };

// Where a hop sat in the message's path: the origin's submission (the oldest hop), a relay in
// between, or the hop into this MTA.
enum class HopPosition : std::uint8_t { kOrigin, kRelay, kInbound };

// The protection of a whole path: every judgeable hop encrypted, at least one cleartext hop,
// or no hop judgeable.
enum class PathClass : std::uint8_t { kAllTls, kCleartextHop, kUnknown };

// What the hop's MTA wrote about the TLS client certificate.
enum class ClientCert : std::uint8_t {
  kNotRequested,  // Postfix "(No client certificate requested)", Sendmail verify=NOT
  kNotPresented,  // Postfix "(Client did not present a certificate)", Sendmail verify=NO
  kUnverified,    // presented but not verified (Postfix "(not verified)", verify=FAIL)
  kVerified,      // Postfix "(verified OK)", Sendmail verify=OK, OpenSMTPD YES
  kUnknown,       // nothing said
};

// Which rule decided the hop's tls value (docs/received.md lists each with an example).
enum class TlsEvidence : std::uint8_t {
  kNone,            // tls unknown: nothing recognisable
  kProtocol,        // the WITH protocol itself (ESMTPS → true, ESMTP → false …)
  kPostfix,         // "(using TLSv1.3 with cipher … (256/256 bits) …)"
  kKeyValue,        // "(version=TLSv1.3 cipher=… bits=…)" Sendmail, Google, Microsoft, IBM
  kColon,           // "(TLSv1:AES256-SHA:256)" old Exim, "(TLSv1.3:…:256:NO)" OpenSMTPD
  kExim,            // "with esmtps (TLS1.3) tls TLS_AES_256_GCM_SHA384" Exim ≥ 4.92
  kQmail,           // "with (DHE-RSA-AES256-SHA encrypted) SMTP" qmail-tls
  kSlash,           // "with ESMTP/TLS/ECDHE-RSA-AES128-GCM-SHA256" (Cisco AsyncOS)
  kOverTlsChannel,  // "over TLS secured channel with Microsoft SMTPSVC"
  kExchangeTls,     // "with Microsoft SMTP Server (TLS)"
  kVendorNoTls,     // a vendor form that always records TLS when used, without it
  kLiveSession,     // the hop into this MTA, from the live session's macros
};

// Why a Received header of a message was not analysed (the per-message caps of ReceivedLimits).
enum class DropReason : std::uint8_t { kHeaderCap, kByteCap };

// What was wrong with a Received header that was analysed (its hop may still be partly known).
enum class Unparsable : std::uint8_t { kMalformed, kTruncated };

}  // namespace mailsec::core::received

MAILSEC_CLOSED_SET(mailsec::core::received::Protocol, "SMTP", "ESMTP", "ESMTPA", "ESMTPS",
                   "ESMTPSA", "LMTP", "LMTPA", "LMTPS", "LMTPSA", "UTF8SMTP", "UTF8SMTPA",
                   "UTF8SMTPS", "UTF8SMTPSA", "UTF8LMTP", "UTF8LMTPA", "UTF8LMTPS", "UTF8LMTPSA",
                   "SMTPS", "HTTP", "HTTPS", "local", "MAPI", "IMAP", "POP3", "exchange", "SMTPSVC",
                   "other", "unknown");
MAILSEC_CLOSED_SET(mailsec::core::received::HopTls, "true", "false", "unknown");
MAILSEC_CLOSED_SET(mailsec::core::received::HopAuth, "true", "false", "unknown");
MAILSEC_CLOSED_SET(mailsec::core::received::HopPosition, "origin", "relay", "inbound");
MAILSEC_CLOSED_SET(mailsec::core::received::PathClass, "all_tls", "cleartext_hop", "unknown");
MAILSEC_CLOSED_SET(mailsec::core::received::ClientCert, "not_requested", "not_presented",
                   "unverified", "verified", "unknown");
MAILSEC_CLOSED_SET(mailsec::core::received::TlsEvidence, "none", "protocol", "postfix", "key_value",
                   "colon", "exim", "qmail", "slash", "over_tls_channel", "exchange_tls",
                   "vendor_no_tls", "live_session");
MAILSEC_CLOSED_SET(mailsec::core::received::DropReason, "header_cap", "byte_cap");
MAILSEC_CLOSED_SET(mailsec::core::received::Unparsable, "malformed", "truncated");
