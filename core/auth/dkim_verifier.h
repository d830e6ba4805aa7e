// dkim_verifier.h — DKIM verification of one message (RFC 6376, RFC 8301, RFC 8463) with
// libopendkim: a verdict per DKIM-Signature with a failure reason from a closed set.
//
// Two phases, so the SMTP dialogue never waits on DNS:
//   feeding — header(), endOfHeaders(), body(), called while the message streams (milter
//     thread). CPU only: libopendkim parses signatures and hashes; key lookups are delayed
//     (DKIM_LIBFLAGS_DELAYSIGPROC, see dkim_library.h);
//   finish() — key lookups through the shared Resolver and the signature checks, on a
//     worker-pool thread.
// Reasons: body_hash_mismatch, signature_mismatch (fail); key_too_small, key_revoked,
// key_not_found, unsupported_algorithm, expired, syntax, other (permerror); a failed key
// lookup (timeout, SERVFAIL) is temperror/other. Syntax includes what libopendkim accepts
// but RFC 6376 §3.2 does not: a duplicated tag (libopendkim silently keeps the last value);
// such signatures are not looked up or checked at all.
//
// Trusts nothing: header and body bytes are a sender's; `value` is the field body exactly as
// after the colon (leading space included, folding as received — LF or CRLF). Bounded by
// DkimLimits: signatures past max_signatures get no verdict (signaturesIgnored()); header or
// body bytes past the limits are not hashed, and then any fail verdict becomes
// temperror/other (truncated(): mailsec did not see enough to judge).
// Thread-safety: one object per message, not thread-safe; it may move to another thread
// between feeding and finish(). Destroying it at any point (an aborted message) frees the
// libopendkim handle. Errors: never throws for message content (std::bad_alloc aside);
// libopendkim failures become verdicts. A moved-from verifier may only be destroyed or
// assigned to.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "core/auth/dkim_library.h"
#include "core/auth/verdicts.h"

namespace mailsec::core::auth {

namespace dkim_detail {
struct VerifierState;
}  // namespace dkim_detail

struct DkimLimits {
  std::size_t max_signatures = 8;           // DKIM-Signature fields verified per message
  std::size_t max_header_fields = 1000;     // header fields fed to libopendkim
  std::size_t max_header_bytes = 1 << 20;   // all fed header fields together
  std::uint64_t max_body_bytes = 64 << 20;  // body bytes hashed
};

class DkimVerifier {
 public:
  explicit DkimVerifier(DkimLibrary& library, const DkimLimits& limits = {});
  ~DkimVerifier();
  DkimVerifier(DkimVerifier&&) noexcept;
  DkimVerifier& operator=(DkimVerifier&&) noexcept;

  void header(std::string_view name, std::string_view value);
  void endOfHeaders();
  void body(std::string_view chunk);
  // Appends one RecordFetch{kDkimKey, dnssec} per key record fetched (an answer with data, or
  // a DNSSEC-bogus answer; not NXDOMAIN, NODATA or a failed lookup). Call once; later calls
  // return {}.
  std::vector<DkimVerdict> finish(std::vector<RecordFetch>& records);

  std::size_t signaturesSeen() const;     // DKIM-Signature fields fed
  std::size_t signaturesIgnored() const;  // of those, past max_signatures (no verdict)
  bool truncated() const;                 // a header or body limit cut what was fed
  // The caller dropped part of the message under its own bounds (e.g. the milter's header
  // cap): as for truncated(), no fail verdict is trusted.
  void markTruncated();

 private:
  std::unique_ptr<dkim_detail::VerifierState> state_;  // null only in a moved-from object
};

}  // namespace mailsec::core::auth
