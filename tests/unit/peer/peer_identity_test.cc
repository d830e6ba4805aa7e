#include "core/peer/peer_identity.h"

#include <gtest/gtest.h>

namespace mailsec::core::peer {
namespace {

TEST(PeerIdentity, SourcesInOrderOfTrust) {
  const auto psl = PublicSuffixList::parse("com\norg\nco.uk\n");
  struct Case {
    const char* name;
    PeerFacts facts;
    const char* want_domain;
    PeerDomainSource want_source;
  };
  const Case cases[] = {
      {"postfix verified name",
       {"mx1.mail.example.com", "", "helo.other.org", "s.org"},
       "example.com",
       PeerDomainSource::kReverseDns},
      {"sendmail OK",
       {"mx.example.co.uk", "OK", "helo.other.org", ""},
       "example.co.uk",
       PeerDomainSource::kReverseDns},
      {"sendmail FORGED falls to HELO",
       {"mx.example.com", "FORGED", "helo.other.org", ""},
       "other.org",
       PeerDomainSource::kHelo},
      {"postfix unknown falls to HELO",
       {"unknown", "", "mx.other.org", ""},
       "other.org",
       PeerDomainSource::kHelo},
      {"sendmail [addr] falls to HELO",
       {"[192.0.2.1]", "FAIL", "mx.other.org", ""},
       "other.org",
       PeerDomainSource::kHelo},
      {"address-literal HELO falls to sender",
       {"unknown", "", "[192.0.2.1]", "bounce.example.com"},
       "example.com",
       PeerDomainSource::kSender},
      {"bare HELO falls to sender",
       {"", "", "localhost", "example.org"},
       "example.org",
       PeerDomainSource::kSender},
      {"name that is a suffix falls to HELO",
       {"co.uk", "", "mx.other.org", ""},
       "other.org",
       PeerDomainSource::kHelo},
      {"nothing usable", {"unknown", "", "x", ""}, "", PeerDomainSource::kNone},
  };
  for (const auto& c : cases) {
    const auto got = derivePeerIdentity(c.facts, psl);
    EXPECT_EQ(got.domain, c.want_domain) << c.name;
    EXPECT_EQ(got.source, c.want_source) << c.name;
  }
}

}  // namespace
}  // namespace mailsec::core::peer
