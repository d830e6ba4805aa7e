// public_suffix.h — the Public Suffix List (publicsuffix.org; Debian's package publicsuffix
// installs /usr/share/publicsuffix/public_suffix_list.dat) and the organisation domain it
// gives a host name: the public suffix plus one label (mail.example.co.uk → example.co.uk).
//
// Input: the list file is trusted as far as its format goes (comments, blank lines, rules with
// * and !); host names are untrusted peer text and are validated before matching. Only ASCII
// (A-label) names are handled: IDN rules written in U-labels never match an xn-- name, and such
// names fall back to the default rule "*" (one label of suffix).
// Thread-safety: immutable after construction; safe from any thread. Errors: load() returns
// nullopt with a reason; lookups never throw.
#pragma once

#include <cstddef>
#include <optional>
#include <set>
#include <string>
#include <string_view>

namespace mailsec::core::peer {

inline constexpr const char* kDefaultPublicSuffixList =
    "/usr/share/publicsuffix/public_suffix_list.dat";

class PublicSuffixList {
 public:
  // An empty list: every name's public suffix is its last label (the list's default rule).
  PublicSuffixList() = default;

  static PublicSuffixList parse(std::string_view text);
  // nullopt (and *problem set) when the file cannot be read or holds no rule.
  static std::optional<PublicSuffixList> load(const std::string& path, std::string* problem);

  // The registrable (organisation) domain of a host name, lower case, without a trailing dot;
  // "" when the name is not a valid host name or is itself a public suffix.
  std::string organisationDomain(std::string_view host) const;

  std::size_t size() const { return rules_.size() + wildcards_.size() + exceptions_.size(); }

 private:
  std::set<std::string, std::less<>> rules_;       // "co.uk"
  std::set<std::string, std::less<>> wildcards_;   // "*.ck" stored as "ck"
  std::set<std::string, std::less<>> exceptions_;  // "!www.ck" stored as "www.ck"
};

// A syntactically valid DNS host name in lower case without a trailing dot: at least two
// labels of letters, digits, '-' or '_', each 1-63 bytes, 253 in all, and not an IPv4 address.
// Returns "" when `text` is not one.
std::string normaliseHostName(std::string_view text);

}  // namespace mailsec::core::peer
