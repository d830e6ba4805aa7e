#include "core/peer/peer_identity.h"

#include "core/peer_text.h"

namespace mailsec::core::peer {

bool verifiedClientName(const PeerFacts& facts) {
  const std::string& name = facts.client_name;
  if (name.empty() || name.front() == '[') return false;
  if (asciiLower(name) == "unknown") return false;
  return facts.client_resolve.empty() || asciiLower(facts.client_resolve) == "ok";
}

PeerIdentity derivePeerIdentity(const PeerFacts& facts, const PublicSuffixList& psl) {
  if (verifiedClientName(facts)) {
    if (auto domain = psl.organisationDomain(facts.client_name); !domain.empty()) {
      return PeerIdentity{std::move(domain), PeerDomainSource::kReverseDns};
    }
  }
  if (auto domain = psl.organisationDomain(facts.helo); !domain.empty()) {
    return PeerIdentity{std::move(domain), PeerDomainSource::kHelo};
  }
  if (auto domain = psl.organisationDomain(facts.sender_domain); !domain.empty()) {
    return PeerIdentity{std::move(domain), PeerDomainSource::kSender};
  }
  return PeerIdentity{};
}

}  // namespace mailsec::core::peer
