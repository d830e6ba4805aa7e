// received_parser.h — turns the value of one Received header into a Hop: from/by hosts, the
// WITH protocol, id/for/date, and the TLS details (version, cipher, bits, client certificate)
// that the hop's MTA wrote, classified through the same TLS analyser as live sessions.
//
// Recognised forms (docs/received.md has an example of each): the IANA WITH protocols,
// Postfix "(using … with cipher …)", Sendmail/Google/Microsoft "(version=… cipher=…)", Exim
// old "(TLSv1:cipher:bits)" and new "(TLS1.3) tls cipher", OpenSMTPD "(TLSv1.3:cipher:256:NO)",
// qmail-tls "(cipher encrypted) SMTP", "ESMTP/TLS/cipher", Microsoft SMTPSVC "over TLS secured
// channel", Exchange "Microsoft SMTP Server (TLS)", qmail "(qmail N invoked by uid N)".
// What is not recognisable is unknown, never a guess.
//
// Trusts nothing: the value is whatever a peer or an earlier hop wrote — any length, any
// bytes (NUL, non-UTF-8, unbalanced or deeply nested parentheses). Only the first
// kMaxValueBytes are looked at (Hop::truncated says so); every copied field is bounded.
// Folded values (CR, LF, tab) may be passed as they are: all whitespace is a separator.
//
// Thread-safety: pure functions; safe to call concurrently. Errors: none thrown except
// std::bad_alloc; malformed input yields a Hop with unknown fields and `malformed` set.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "core/received/received_types.h"
#include "core/tls/tls_analyser.h"

namespace mailsec::core::received {

// Bytes of one header value that the parser looks at; the rest is ignored (Hop::truncated).
inline constexpr std::size_t kMaxValueBytes = 16 * 1024;
// Longest copy kept of any one field (host names, ids, cipher text …).
inline constexpr std::size_t kMaxFieldBytes = 255;
// Tokens (words, comments, separators) looked at in one value.
inline constexpr std::size_t kMaxTokens = 512;

// One hop of a message's path, as written by the MTA that received it. All strings are bounded
// copies of what the header said (possibly empty; possibly not UTF-8).
struct Hop {
  std::string from;        // the word after FROM: EHLO name (Postfix, Sendmail) or rDNS (Exim)
  std::string from_rdns;   // host name in the FROM comment, "(rdns [ip])"; may be "unknown"
  std::string from_ip;     // address in the FROM clause, without brackets, "IPv6:" or "%zone"
  std::string from_helo;   // HELO in the comment: Exim "helo=x", qmail "(HELO x)", "(EHLO x)"
  std::string by;          // the word after BY: the receiving host
  std::string by_comment;  // first comment after BY: "Postfix", "8.17.1/8.17.1", an address
  std::string via;
  std::string with;  // the WITH protocol as written, e.g. "ESMTPS", "Microsoft SMTP Server"
  std::string id;
  std::string for_recipient;
  std::string date;  // text after the last top-level ';'

  Protocol protocol = Protocol::kUnknown;
  HopAuth authenticated = HopAuth::kUnknown;
  HopTls tls = HopTls::kUnknown;
  TlsEvidence tls_evidence = TlsEvidence::kNone;

  // TLS details, when a recognised comment gave them (empty / 0 otherwise).
  std::string tls_version_raw;  // as written: "TLSv1.3", "TLS1_2", "TLSv1/SSLv3"
  std::string cipher;           // as written: "TLS_AES_256_GCM_SHA384", "ECDHE-RSA-…"
  int cipher_bits = 0;          // symmetric bits the MTA reported; 0 = not said
  tls::Profile profile;         // tls::analyse(tls_version_raw, cipher) when either is set

  ClientCert client_cert = ClientCert::kUnknown;
  std::string client_subject;  // Postfix "Client CN", as written
  std::string client_issuer;   // Postfix "Issuer", as written

  bool loopback = false;   // from_ip is 127.0.0.0/8 or ::1: the hop never left the host
  bool truncated = false;  // the value (or its token count) exceeded the parser's bounds
  bool malformed = false;  // unbalanced parentheses, stray ')', or no clause at all
};

// Parses one Received header value (without the "Received:" name). Never reads outside
// `value`.
Hop parseReceived(std::string_view value);

// Classifies a WITH protocol token case-insensitively ("esmtps" → kESMTPS, "local-esmtp" →
// kLocal); kOther for anything else, including the empty string.
Protocol parseProtocol(std::string_view token);

// What a protocol alone says about TLS and authentication (kUnknown when it says nothing).
HopTls protocolTls(Protocol protocol);
HopAuth protocolAuth(Protocol protocol);

// The cipher name handed to the TLS analyser: LibreSSL's TLS 1.3 names ("AEAD-AES128-GCM-
// SHA256") become the RFC 8446 names and Microsoft's curve suffix ("…_SHA384_P384") is
// dropped; everything else is returned unchanged.
std::string_view analyserCipherName(std::string_view cipher);

// True when `text` is an IPv4 or IPv6 address literal in the loopback range.
bool isLoopbackAddress(std::string_view text);

}  // namespace mailsec::core::received
