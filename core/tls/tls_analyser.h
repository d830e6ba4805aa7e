// tls_analyser.h — classifies what an MTA reports about a TLS session (protocol version
// string, cipher name, bits) into the closed sets of tls_types.h.
//
// Cipher facts come from OpenSSL's own cipher table (every suite this libssl knows, found by
// its OpenSSL name and by its IANA/RFC name), never from guessing at substrings. The table is
// every code point SSL_CIPHER_find() resolves (minus the two signalling values 0x00FF and
// 0x5600), so it also holds suites this libssl can no longer negotiate (IDEA, SEED, GOST).
// A small supplementary table adds the IANA-registered RC4, DES, 3DES, RC2 and EXPORT suites
// that OpenSSL 3 no longer ships but old peers and Received headers still name (marked
// CipherSuite::legacy); where this libssl knows one of them, its own entry wins. Names the
// tables do not know, and version strings that are not recognised, become kOther.
//
// Trusts nothing: inputs are peer- or MTA-supplied strings of any length and content.
// Thread-safety: all functions are safe to call concurrently; the table is built once.
// Errors: none thrown; unrecognised input is reported through the `known` flags.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "core/tls/tls_types.h"

namespace mailsec::core::tls {

// One cipher suite of OpenSSL's table (or of the supplementary legacy table).
//
// Key exchange and authentication: anonymous (EC)DH suites (OpenSSL's aNULL) have kex and auth
// kAnonymous; TLS 1.3 suites have kAny for both. OpenSSL's GOST suites carry GOST signature
// bits that have no single NID; their auth is kGOST.
// Forward secrecy: true for ECDHE, DHE, ECDHE-PSK, DHE-PSK, anonymous (EC)DH (ephemeral, but
// graded insecure anyway) and every TLS 1.3 suite; false for RSA, PSK, RSA-PSK, SRP and GOST
// (the long-term key, password verifier or PSK alone protects the session keys).
struct CipherSuite {
  std::string openssl_name;  // e.g. ECDHE-RSA-AES128-GCM-SHA256, TLS_AES_256_GCM_SHA384
  std::string iana_name;     // e.g. TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256; empty when none
  std::uint16_t id = 0;      // the two-byte code point
  KeyExchange kex = KeyExchange::kOther;
  Authentication auth = Authentication::kOther;
  BulkCipher cipher = BulkCipher::kOther;
  Mac mac = Mac::kOther;
  int bits = 0;  // symmetric strength in bits
  bool forward_secret = false;
  bool tls13 = false;                     // a TLS 1.3 suite (usable only with TLS 1.3)
  Version min_version = Version::kOther;  // oldest protocol version the suite works with
  bool legacy = false;  // from the supplementary legacy table: this libssl does not know it
};

// Everything mailsec derives from one session's (version, cipher) pair.
struct Profile {
  Version version = Version::kOther;
  bool cipher_known = false;  // cipher name found in the table (OpenSSL's or legacy)
  KeyExchange kex = KeyExchange::kOther;
  Authentication auth = Authentication::kOther;
  BulkCipher cipher = BulkCipher::kOther;
  Mac mac = Mac::kOther;
  bool forward_secret = false;
  Grade grade = Grade::kOther;
};

// "TLSv1.3", "TLS1_3", "TLS1.3", "tlsv1.3", "TLSv1", "TLS1_0", "TLSv1.0", "SSLv3" … →
// Version; anything else (empty, SSLv2, "TLSv1/SSLv3", garbage) → kOther. Case-insensitive,
// surrounding ASCII whitespace ignored. Grammar: "SSL" ["v"] "3" [("." | "_") "0"], or
// "TLS" ["v"] "1" [("." | "_") ("0" | "1" | "2" | "3")].
Version parseVersion(std::string_view text);

// Looks a suite up by OpenSSL name or IANA name, case-insensitively, surrounding ASCII
// whitespace ignored; exact names only (no prefixes, no substrings). nullptr when unknown.
// Old OpenSSL spellings of legacy suites (EDH-RSA-DES-CBC3-SHA) are found too.
const CipherSuite* findCipherSuite(std::string_view name);

// Every suite of the table — OpenSSL's own, then the legacy ones it lacks — in code-point order.
std::span<const CipherSuite> allCipherSuites();

// The grade of a (version, suite) pair, decided by the first rule that applies:
//   other       — cipher unknown (suite == nullptr);
//   insecure    — anonymous, NULL, RC4, 3DES, DES, RC2, IDEA, EXPORT or MD5 (whatever version,
//                 even unknown; EXPORT suites all use RC4, RC2 or DES);
//   recommended — version unknown but a TLS 1.3 suite (such suites imply TLS 1.3);
//   other       — version unknown, or a version the suite cannot be negotiated with: a TLS 1.3
//                 suite with an older version, an older suite with TLSv1.3, or a version older
//                 than the suite's min_version (e.g. a GCM suite with TLSv1);
//   obsolete    — SSLv3, TLSv1 or TLSv1.1;
//   recommended — TLS 1.3; TLS 1.2 with a forward-secret key exchange (ECDHE, DHE or their PSK
//                 variants) and an AEAD cipher;
//   secure      — any other TLS 1.2 suite (forward-secret CBC; RSA, PSK, RSA-PSK, SRP or GOST
//                 key exchange).
Grade grade(Version version, const CipherSuite* suite);

// The whole analysis of what an MTA reported: the version as parsed, the suite's facts when
// the cipher is known (all kOther/false otherwise) and grade(version, suite).
Profile analyse(std::string_view version, std::string_view cipher);

}  // namespace mailsec::core::tls
