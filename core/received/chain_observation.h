// chain_observation.h — what core reports to a Recorder about one message's Received chain:
// every hop's position, protocol, TLS state and (when reported) TLS version, the path class,
// where the first cleartext hop sat, the origin's submission, and what the caps dropped.
// Plain values from closed sets only: nothing here can carry a peer-supplied string.
//
// Trusts: built by ReceivedChainTracker from parser output. Thread-safety: plain values.
// Errors: none.
#pragma once

#include <cstddef>
#include <optional>
#include <vector>

#include "core/observation.h"
#include "core/received/received_types.h"
#include "core/tls/tls_types.h"

namespace mailsec::core::received {

struct HopObservation {
  HopPosition position = HopPosition::kRelay;
  Protocol protocol = Protocol::kUnknown;
  HopTls tls = HopTls::kUnknown;
  // The TLS version the hop's MTA (or the live session) named; nullopt when the hop was not
  // TLS or no version was written. kOther when one was written that mailsec does not know.
  std::optional<tls::Version> tls_version;
};

struct ChainObservation {
  Source source = Source::kMilter;
  std::vector<HopObservation> hops;  // travel order: the origin first, the inbound hop last
  PathClass path = PathClass::kUnknown;
  std::optional<HopPosition> first_cleartext;
  HopAuth origin_authenticated = HopAuth::kUnknown;
  HopTls origin_tls = HopTls::kUnknown;
  std::size_t dropped_header_cap = 0;  // Received headers over the per-message count cap
  std::size_t dropped_byte_cap = 0;    // Received headers over the per-message byte cap
  std::size_t malformed = 0;           // hops whose header structure was broken
  std::size_t truncated = 0;           // hops whose header exceeded the parser's bounds
};

}  // namespace mailsec::core::received
