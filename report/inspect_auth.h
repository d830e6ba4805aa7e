// inspect_auth.h — mailsec-inspect's SPF, DKIM and DMARC verdicts for one message: the same
// core code the milter verifies with (core/auth), run once, in the foreground.
//
// It runs the milter's own per-message verification (core::auth::Authenticator's
// MessageVerification: trusted Authentication-Results first, else SPF for the envelope given
// on the command line, DKIM per signature, DMARC for the From domain), once, in the
// foreground. The verdicts that need DNS need a resolver: with `dns` empty none is made, no
// lookup leaves the machine, and every verdict that would have needed an answer is reported
// as not computed (null in --json) with a note saying so; what needs no DNS (a signature's
// syntax, its algorithm, a duplicated tag, an expiry) is still shown. With `dns` ("IP",
// "IP@PORT", or "system" for /etc/resolv.conf) mailsec's UnboundResolver asks that server.
//
// Trusts nothing in the message (core bounds it). Thread-safety: one call at a time per
// process (it creates the libraries it uses). Errors: a resolver that cannot start is an
// error string in the result, never an exception (std::bad_alloc aside).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/auth/verdicts.h"

namespace mailsec::report {

struct InspectAuthOptions {
  std::string client_ip;                   // --client-ip (SPF)
  std::string helo;                        // --helo (SPF)
  std::string mail_from;                   // --mail-from (SPF; empty: a bounce, SPF checks HELO)
  std::string dns;                         // --dns: "", "system", "IP" or "IP@PORT"
  bool dnssec = true;                      // --no-dnssec turns validation off (unsigned test zones)
  std::vector<std::string> trusted_ids;    // --trusted-authserv-id (repeatable)
  std::vector<std::string> trust_anchors;  // --trust-anchor FILE (repeatable), beside the root's
};

struct InspectDkim {
  core::auth::DkimVerdict verdict;
  bool computed = true;  // false: it needed DNS and no resolver was given
};

struct InspectAuth {
  core::auth::VerdictSource source = core::auth::VerdictSource::kVerified;
  std::string resolver;  // what answered DNS ("none" without --dns)
  std::optional<core::auth::SpfVerdict> spf;
  std::vector<InspectDkim> dkim;
  std::optional<core::auth::DmarcVerdict> dmarc;
  core::auth::AuthMethod method = core::auth::AuthMethod::kNone;  // of the verdicts shown
  std::vector<core::auth::RecordFetch> records;
  std::size_t dkim_signatures_ignored = 0;  // past the per-message cap
  std::size_t untrusted_auth_results = 0;   // Authentication-Results fields ignored
  std::vector<std::string> notes;           // why something is null, limits hit
  std::string error;                        // the resolver could not start (exit 1)
};

InspectAuth inspectAuth(std::string_view message, const InspectAuthOptions& options);

}  // namespace mailsec::report
