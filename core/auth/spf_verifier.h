// spf_verifier.h — SPF (RFC 7208) for one message: the MAIL FROM identity, or HELO when MAIL
// FROM is empty, checked with libspf2 over mailsec's Resolver (a custom libspf2 DNS layer),
// mapped onto the closed sets of verdicts.h (result and error class).
//
// Trusts nothing: the envelope comes from the SMTP client and the records from the sender's
// DNS. Everything is validated before libspf2 sees it (libspf2 abort()s on some invalid
// arguments, and passes loopback clients without looking): an unusable client address or
// a loopback client means SPF is not evaluated (nullopt); a malformed identity domain gives
// `none` (RFC 7208 §4.3). DNS answers are bounded (records, sizes, lookups per check).
// libspf2's record parsing and macro expansion have had remotely triggerable memory bugs;
// tests/fuzz/spf_records.cc fuzzes this path through the DNS layer (see docs/auth.md for
// the finding and the containment decision).
//
// Thread-safety: checkSpf() may run on many threads at once (one libspf2 server per check;
// the resolver must be thread-safe). Errors: never throws for bad input or DNS failures.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "core/auth/resolver.h"
#include "core/auth/verdicts.h"

namespace mailsec::core::auth {

struct SpfRequest {
  std::string client_address;  // the SMTP client's IP address, textual (IPv4 or IPv6)
  std::string helo;            // the HELO/EHLO argument
  std::string mail_from;       // the MAIL FROM address without <>, empty for a bounce
};

// Lookups one check may make before it stops asking (RFC 7208's limits allow about 110).
inline constexpr int kMaxSpfLookups = 60;
// include: and redirect= terms one check follows (RFC 7208 §4.6.4 counts them among its 10).
inline constexpr int kMaxSpfIncludes = 10;
// Wall-clock budget of one check; lookups after it fail as timeouts (temperror).
inline constexpr std::chrono::seconds kSpfCheckBudget{10};

// The SPF verdict, or nullopt when SPF cannot be evaluated (no usable client address, or a
// loopback client). Appends one RecordFetch{kSpf} per SPF record fetched (include:s and
// redirect=s too), with its DNSSEC status.
std::optional<SpfVerdict> checkSpf(Resolver& resolver, const SpfRequest& request,
                                   std::vector<RecordFetch>& records);

// Whether `client_address` is one SPF can be evaluated for (an IP address, not loopback).
bool spfClientUsable(std::string_view client_address);

// The domain part of a mailbox (after the last '@'), lower-cased, without a trailing dot;
// "" when none. Exposed for DMARC alignment and tests.
std::string mailboxDomain(std::string_view mailbox);

// RFC 1035 host syntax as SPF needs it (labels of letters, digits, '-' and '_', 1-63
// octets, at most 253 in all, at least two labels).
bool plausibleDomain(std::string_view domain);

}  // namespace mailsec::core::auth
