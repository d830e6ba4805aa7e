// peer_identity.h — the organisation domain a session's peer is filed under: from the
// forward-confirmed reverse name when there is one, else the HELO name, else the envelope
// sender's domain, each reduced with the Public Suffix List. Which source was used is kept
// with it, since only the reverse name is hard to forge.
//
// Input: PeerFacts (bounded, untrusted MTA and peer text). Thread-safety: pure. Errors: an
// unusable peer gets {"" , kNone}; never throws.
#pragma once

#include "core/observation.h"
#include "core/peer/public_suffix.h"

namespace mailsec::core::peer {

// True when {client_name} (with Sendmail's {client_resolve}) names a forward-confirmed host:
// not empty, not Postfix's "unknown", not Sendmail's "[address]", and {client_resolve} empty
// (Postfix only passes confirmed names) or OK.
bool verifiedClientName(const PeerFacts& facts);

PeerIdentity derivePeerIdentity(const PeerFacts& facts, const PublicSuffixList& psl);

}  // namespace mailsec::core::peer
