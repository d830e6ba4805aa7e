// authentication_results.h — reads Authentication-Results header fields (RFC 8601) written by
// a verifier the site trusts (OpenDKIM, OpenDMARC, rspamd, ... on the same MTA), so mailsec
// can measure their SPF, DKIM and DMARC verdicts instead of verifying again.
//
// Trust: a header counts only when its authserv-id is one of `trusted_ids` (config
// auth.trusted_authserv_ids), compared case-insensitively. Every other Authentication-Results
// field — any sender can write one — is ignored and counted in `ignored_untrusted`, as is a
// field whose authserv-id cannot be read. RFC 8601 §5 has the trusted server remove fields
// carrying its own id from incoming mail; when several trusted fields report the same method
// the topmost (newest, first in `header_values`) one wins, and DKIM results are taken from
// the topmost trusted field that has any.
//
// Mapping onto the closed sets: RFC 8601 §2.7 results; a DKIM reason comes from reason= and
// comments ("body hash did not verify", "no key for signature", "(2048-bit key)" gives
// key_bits, ...); DKIM neutral (unverifiable signature) is permerror/syntax unless the text
// says more; DMARC permerror is none. Unknown methods and results are skipped.
//
// Trusts nothing in the text: bounded (per field, per message), never throws for content
// (std::bad_alloc aside). Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/auth/verdicts.h"

namespace mailsec::core::auth {

struct TrustedResults {
  AuthVerdicts verdicts;           // spf/dkim/dmarc as the trusted server reported; source is
                                   // kAuthenticationResults, records is empty (none were fetched)
  std::string authserv_id;         // of the topmost trusted field (lowercased)
  std::size_t trusted_fields = 0;  // trusted fields read
};

// Limits: only the first 32 fields, and the first 16 KiB of each, are read.
std::optional<TrustedResults> readTrustedResults(std::span<const std::string_view> header_values,
                                                 const std::vector<std::string>& trusted_ids,
                                                 std::size_t& ignored_untrusted);

// The verdicts of readTrustedResults, or nullopt when no field came from a trusted id.
std::optional<AuthVerdicts> readAuthenticationResults(
    std::span<const std::string_view> header_values, const std::vector<std::string>& trusted_ids,
    std::size_t& ignored_untrusted);

// The authserv-id of one Authentication-Results value (lowercased), or nullopt if unreadable.
std::optional<std::string> authservId(std::string_view header_value);

}  // namespace mailsec::core::auth
