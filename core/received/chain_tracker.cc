// chain_tracker.cc — see chain_tracker.h.
#include "core/received/chain_tracker.h"

#include <vector>

#include "core/received/received_parser.h"

namespace mailsec::core::received {
namespace {

HopObservation observeHop(const Hop& hop, HopPosition position) {
  HopObservation out;
  out.position = position;
  out.protocol = hop.protocol;
  out.tls = hop.tls;
  if (hop.tls == HopTls::kTrue && !hop.tls_version_raw.empty()) {
    out.tls_version = hop.profile.version;
  }
  return out;
}

}  // namespace

ChainObservation observeChain(Source source, std::span<const Hop> hops, const Hop* inbound) {
  const PathSummary summary = summarizePath(hops, inbound);
  ChainObservation out;
  out.source = source;
  out.hops.reserve(hops.size() + 1);
  for (std::size_t i = hops.size(); i-- > 0;) {
    out.hops.push_back(observeHop(hops[i], summary.positions[i]));
    if (hops[i].malformed) ++out.malformed;
    if (hops[i].truncated) ++out.truncated;
  }
  if (inbound != nullptr) out.hops.push_back(observeHop(*inbound, HopPosition::kInbound));
  out.path = summary.path;
  out.first_cleartext = summary.first_cleartext;
  out.origin_authenticated = summary.origin.authenticated;
  out.origin_tls = summary.origin.tls;
  return out;
}

ChainObservation ReceivedChainTracker::messageEnded(const LiveSession& live) {
  std::vector<Hop> hops;
  hops.reserve(collector_.values().size());
  for (const std::string& value : collector_.values()) hops.push_back(parseReceived(value));
  const Hop inbound = hopFromSession(live);
  ChainObservation out = observeChain(source_, hops, &inbound);
  out.dropped_header_cap = collector_.droppedHeaderCap();
  out.dropped_byte_cap = collector_.droppedByteCap();
  collector_.clear();
  recorder_.receivedChain(out);
  return out;
}

}  // namespace mailsec::core::received
