// dmarc_verifier.h — DMARC (RFC 7489) for the RFC5322.From domain of one message: the
// `_dmarc` TXT record fetched through mailsec's Resolver (with the organisational-domain
// fallback of §6.6.3, the organisational domain from the public suffix list), parsed by
// libopendmarc (opendmarc_policy_store_dmarc), SPF and DKIM results stored into its policy
// context for identifier alignment (adkim/aspf), and the published policy: p, or sp when the
// record came from the organisational domain, and pct < 100 as `partial`.
//
// Trusts nothing: the From domain is a sender's, the record a sender's zone's; both are
// validated and bounded before libopendmarc sees them. Thread-safety: DmarcLibrary is set up
// once (process-wide libopendmarc state, the suffix list) and then used from many threads;
// checkDmarc() keeps all per-message state in its own policy context. Errors: never throws
// for content or DNS; DmarcLibrary's constructor throws std::runtime_error when libopendmarc
// cannot start (start-up, fatal) — a missing suffix list is not fatal (no fallback then).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/auth/resolver.h"
#include "core/auth/verdicts.h"

namespace mailsec::core::auth {

inline constexpr const char* kPublicSuffixList = "/usr/share/publicsuffix/public_suffix_list.dat";

class DmarcLibrary {
 public:
  explicit DmarcLibrary(const std::string& public_suffix_list = kPublicSuffixList);
  ~DmarcLibrary();
  DmarcLibrary(const DmarcLibrary&) = delete;
  DmarcLibrary& operator=(const DmarcLibrary&) = delete;

  // The organisational domain of `domain` (lower-case), "" when unknown.
  std::string organizationalDomain(std::string_view domain) const;
  bool hasSuffixList() const { return suffix_list_; }

 private:
  bool suffix_list_ = false;
};

struct DmarcInput {
  std::string from_domain;        // the RFC5322.From domain (lower-case)
  std::string client_address;     // the SMTP client's IP address, textual
  std::optional<SpfVerdict> spf;  // the message's SPF verdict, if evaluated
  std::vector<DkimVerdict> dkim;  // the message's DKIM verdicts
};

// The DMARC verdict, or nullopt when the From domain is unusable. Appends a
// RecordFetch{kDmarc} for the DMARC record found (or a bogus answer).
std::optional<DmarcVerdict> checkDmarc(Resolver& resolver, const DmarcLibrary& library,
                                       const DmarcInput& input, std::vector<RecordFetch>& records);

// The domain of an RFC 5322 From field value (`Name <a@b>` or `a@b`), lower-case; "" when the
// field names no single mailbox with a domain (empty, group syntax, several mailboxes).
std::string fromHeaderDomain(std::string_view value);

}  // namespace mailsec::core::auth
