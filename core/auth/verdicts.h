// verdicts.h — what mailsec concludes about a message's authentication: SPF for the envelope,
// DKIM per signature, DMARC for the From domain, which DNS records it rested on (and their
// DNSSEC status), and the method mix of the IMC 2015 study's Table 18.
//
// These closed sets become Prometheus labels (docs/metrics.md) and store columns: values and
// spellings are a contract — extend, never rename. Domains in the verdicts are for the store
// and for mailsec-inspect, never for labels.
//
// Trusts: nothing (plain values). Thread-safety: plain values. Errors: none.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/closed_set.h"

namespace mailsec::core::auth {

// RFC 7208 §2.6 results.
enum class SpfResult : std::uint8_t {
  kPass,
  kFail,
  kSoftfail,
  kNeutral,
  kNone,
  kTemperror,
  kPermerror
};

// Why an SPF check did not reach a policy result (kNone when it did).
enum class SpfError : std::uint8_t {
  kNone,
  kDnsTimeout,      // a lookup timed out
  kDnsTemporary,    // SERVFAIL or another temporary DNS failure
  kInvalidRecord,   // a syntax error in the record, or more than one v=spf1 record
  kTooManyLookups,  // over RFC 7208's 10 DNS-querying terms (or 2 void lookups)
  kOther
};

// Which identity SPF checked: MAIL FROM, or HELO when MAIL FROM was empty (a bounce).
enum class SpfIdentity : std::uint8_t { kMailFrom, kHelo };

// RFC 6376 verdict of one signature.
enum class DkimResult : std::uint8_t { kPass, kFail, kTemperror, kPermerror };

enum class DkimReason : std::uint8_t {
  kNone,
  kBodyHashMismatch,      // bh= does not match the body
  kSignatureMismatch,     // b= does not verify (headers changed, wrong key)
  kKeyTooSmall,           // an RSA key under 1024 bits
  kKeyRevoked,            // the key record has an empty p=
  kKeyNotFound,           // no key record at selector._domainkey.domain (NXDOMAIN/NODATA)
  kUnsupportedAlgorithm,  // a= the verifier does not implement
  kExpired,               // x= in the past
  kSyntax,                // malformed signature or key: bad v=, duplicated tag, missing tag
  kOther
};

// The a= of a signature (rsa-sha1 is deprecated by RFC 8301 and counted as such).
enum class DkimAlgorithm : std::uint8_t { kRsaSha256, kRsaSha1, kEd25519Sha256, kOther };

// RFC 7489 result for the From domain.
enum class DmarcResult : std::uint8_t { kPass, kFail, kNone, kTemperror };

// The policy the From domain publishes (p=, or sp= for a subdomain); kAbsent: no record.
enum class DmarcPolicy : std::uint8_t { kReject, kQuarantine, kNone, kAbsent };

// The DNSSEC status of a DNS answer (RFC 4035 §4.3). kUnknown: validation is off, or the
// answer never came.
enum class Dnssec : std::uint8_t { kSecure, kInsecure, kBogus, kUnknown };

// The kinds of DNS record verification fetches (mailsec_auth_records_total{record}).
enum class AuthRecord : std::uint8_t { kSpf, kDkimKey, kDmarc };

// Which methods passed for a message (Table 18 of Durumeric et al., IMC 2015).
enum class AuthMethod : std::uint8_t { kDkimAndSpf, kDkimOnly, kSpfOnly, kNone };

// Where the verdicts came from: mailsec's own verification, or a trusted
// Authentication-Results header (config auth.trusted_authserv_ids).
enum class VerdictSource : std::uint8_t { kVerified, kAuthenticationResults };

struct SpfVerdict {
  SpfResult result = SpfResult::kNone;
  SpfError error = SpfError::kNone;
  SpfIdentity identity = SpfIdentity::kMailFrom;
  std::string domain;  // the checked identity's domain (never a local part)
};

struct DkimVerdict {
  DkimResult result = DkimResult::kPermerror;
  DkimReason reason = DkimReason::kOther;
  DkimAlgorithm algorithm = DkimAlgorithm::kOther;
  std::string domain;          // d=
  std::uint32_t key_bits = 0;  // 0 when no key was retrieved
};

struct DmarcVerdict {
  DmarcResult result = DmarcResult::kNone;
  DmarcPolicy policy = DmarcPolicy::kAbsent;
  bool partial = false;  // pct < 100
  bool spf_aligned = false;
  bool dkim_aligned = false;
  std::string from_domain;  // RFC5322.From domain
};

// One DNS record fetched for verification, and what DNSSEC said of its answer.
struct RecordFetch {
  AuthRecord record = AuthRecord::kSpf;
  Dnssec dnssec = Dnssec::kUnknown;
};

// Everything concluded about one message.
struct AuthVerdicts {
  VerdictSource source = VerdictSource::kVerified;
  std::optional<SpfVerdict> spf;      // absent: SPF was not evaluated (no client address)
  std::vector<DkimVerdict> dkim;      // one per DKIM-Signature examined (capped)
  std::optional<DmarcVerdict> dmarc;  // absent: no usable From domain
  std::vector<RecordFetch> records;
};

// The Table 18 class: which of DKIM (any signature passed) and SPF (pass) passed.
AuthMethod authMethod(const AuthVerdicts& verdicts);

}  // namespace mailsec::core::auth

MAILSEC_CLOSED_SET(mailsec::core::auth::SpfResult, "pass", "fail", "softfail", "neutral", "none",
                   "temperror", "permerror");
MAILSEC_CLOSED_SET(mailsec::core::auth::SpfError, "none", "dns_timeout", "dns_temporary",
                   "invalid_record", "too_many_lookups", "other");
MAILSEC_CLOSED_SET(mailsec::core::auth::SpfIdentity, "mailfrom", "helo");
MAILSEC_CLOSED_SET(mailsec::core::auth::DkimResult, "pass", "fail", "temperror", "permerror");
MAILSEC_CLOSED_SET(mailsec::core::auth::DkimReason, "none", "body_hash_mismatch",
                   "signature_mismatch", "key_too_small", "key_revoked", "key_not_found",
                   "unsupported_algorithm", "expired", "syntax", "other");
MAILSEC_CLOSED_SET(mailsec::core::auth::DkimAlgorithm, "rsa-sha256", "rsa-sha1", "ed25519-sha256",
                   "other");
MAILSEC_CLOSED_SET(mailsec::core::auth::DmarcResult, "pass", "fail", "none", "temperror");
MAILSEC_CLOSED_SET(mailsec::core::auth::DmarcPolicy, "reject", "quarantine", "none", "absent");
MAILSEC_CLOSED_SET(mailsec::core::auth::Dnssec, "secure", "insecure", "bogus", "unknown");
MAILSEC_CLOSED_SET(mailsec::core::auth::AuthRecord, "spf", "dkim_key", "dmarc");
MAILSEC_CLOSED_SET(mailsec::core::auth::AuthMethod, "dkim_and_spf", "dkim_only", "spf_only",
                   "none");
MAILSEC_CLOSED_SET(mailsec::core::auth::VerdictSource, "verified", "authentication_results");
