// tls_types.h — the closed sets that describe a TLS session: protocol version, key exchange,
// authentication, bulk cipher, MAC and the recommended/secure/insecure/obsolete grade.
//
// Values and spellings are the metric contract (docs/metrics.md): extend, never rename.
// Thread-safety: constants only.
#pragma once

#include <cstdint>

#include "core/closed_set.h"

namespace mailsec::core::tls {

enum class Version : std::uint8_t { kSSLv3, kTLSv1, kTLSv1_1, kTLSv1_2, kTLSv1_3, kOther };

// Key exchange. kAny is TLS 1.3's own negotiation (the group is not reported by MTAs);
// kAnonymous is unauthenticated (EC)DH (aNULL suites).
enum class KeyExchange : std::uint8_t {
  kECDHE, kDHE, kRSA, kPSK, kECDHE_PSK, kDHE_PSK, kRSA_PSK, kSRP, kGOST, kAnonymous, kAny, kOther
};

enum class Authentication : std::uint8_t {
  kRSA, kECDSA, kDSS, kPSK, kSRP, kGOST, kAnonymous, kAny, kOther
};

enum class BulkCipher : std::uint8_t {
  kAES128GCM, kAES256GCM, kAES128CCM, kAES256CCM, kAES128CCM8, kAES256CCM8, kCHACHA20POLY1305,
  kAES128CBC, kAES256CBC, kCAMELLIA128, kCAMELLIA256, kARIA128GCM, kARIA256GCM, kSEED, kIDEA,
  k3DES, kDES, kRC4, kRC2, kGOST, kNULL, kOther
};

enum class Mac : std::uint8_t { kAEAD, kSHA1, kSHA256, kSHA384, kMD5, kGOST, kOther };

enum class Grade : std::uint8_t { kRecommended, kSecure, kInsecure, kObsolete, kOther };

}  // namespace mailsec::core::tls

MAILSEC_CLOSED_SET(mailsec::core::tls::Version, "SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3",
                   "other");
MAILSEC_CLOSED_SET(mailsec::core::tls::KeyExchange, "ECDHE", "DHE", "RSA", "PSK", "ECDHE-PSK",
                   "DHE-PSK", "RSA-PSK", "SRP", "GOST", "anonymous", "any", "other");
MAILSEC_CLOSED_SET(mailsec::core::tls::Authentication, "RSA", "ECDSA", "DSS", "PSK", "SRP", "GOST",
                   "anonymous", "any", "other");
MAILSEC_CLOSED_SET(mailsec::core::tls::BulkCipher, "AES-128-GCM", "AES-256-GCM", "AES-128-CCM",
                   "AES-256-CCM", "AES-128-CCM8", "AES-256-CCM8", "CHACHA20-POLY1305",
                   "AES-128-CBC", "AES-256-CBC", "CAMELLIA-128-CBC", "CAMELLIA-256-CBC",
                   "ARIA-128-GCM", "ARIA-256-GCM", "SEED-CBC", "IDEA-CBC", "3DES", "DES", "RC4",
                   "RC2", "GOST", "NULL", "other");
MAILSEC_CLOSED_SET(mailsec::core::tls::Mac, "AEAD", "SHA1", "SHA256", "SHA384", "MD5", "GOST",
                   "other");
MAILSEC_CLOSED_SET(mailsec::core::tls::Grade, "recommended", "secure", "insecure", "obsolete",
                   "other");
