// path_summary.h — from a message's hops to the answers of issue 3: how many hops, how many
// known TLS / known cleartext / unknown, whether every judgeable hop was encrypted, where the
// first cleartext hop sat (origin submission, relay, or the hop into this MTA), and how the
// origin submitted (protocol, authenticated, over TLS).
//
// The MTA does not show a milter its own Received header: the milter builds the hop into this
// MTA from the live session's macros (hopFromSession) and passes it as `inbound`. A program
// reading a delivered message (mailsec-inspect) passes no inbound hop: the topmost Received
// header is then the hop into the MTA that delivered it.
//
// Positions: the hop into this MTA is `inbound`; of the others, the oldest (bottom-most) is
// `origin`, the rest `relay`. A hop is judgeable when its tls is known and it did not run over
// loopback (a content filter re-injecting on 127.0.0.1 never crossed a network).
// Path: `cleartext_hop` when a judgeable hop was cleartext, `all_tls` when at least one hop is
// judgeable and all judgeable hops were encrypted, `unknown` otherwise.
//
// Trusts: its inputs are parser output (already bounded). Thread-safety: pure functions.
// Errors: none thrown except std::bad_alloc.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "core/received/received_parser.h"
#include "core/received/received_types.h"

namespace mailsec::core::received {

// How the origin submitted the message: the oldest hop's protocol, authentication and TLS.
struct Submission {
  Protocol protocol = Protocol::kUnknown;
  HopAuth authenticated = HopAuth::kUnknown;
  HopTls tls = HopTls::kUnknown;
};

struct PathSummary {
  std::size_t hops = 0;            // header hops plus the live inbound hop, if given
  std::size_t tls_hops = 0;        // tls == true
  std::size_t cleartext_hops = 0;  // tls == false
  std::size_t unknown_hops = 0;    // tls == unknown
  std::size_t loopback_hops = 0;   // over loopback (counted above too; never judged)
  PathClass path = PathClass::kUnknown;
  bool all_judgeable_tls = false;              // path == kAllTls
  std::optional<HopPosition> first_cleartext;  // in travel order (oldest first)
  Submission origin;
  std::vector<HopPosition> positions;           // one per header hop, same order (topmost first)
  std::optional<HopPosition> inbound_position;  // the live inbound hop's, when given
};

// hops: the parsed Received headers, topmost (newest) first. inbound: the hop into this MTA
// when it is not among `hops` (milter: hopFromSession), or nullptr (hops[0] is that hop).
PathSummary summarizePath(std::span<const Hop> hops, const Hop* inbound);

// What the milter knows about the live SMTP session once the message is complete. Strings are
// the MTA's macros, empty when unset; they are copied bounded into the Hop.
struct LiveSession {
  std::string_view client_name;   // {client_name} / _ : rDNS of the client
  std::string_view client_addr;   // {client_addr}
  std::string_view helo;          // HELO/EHLO argument
  std::string_view by;            // {j}: this MTA's name
  std::string_view queue_id;      // {i}
  std::string_view tls_version;   // {tls_version}; empty means no TLS
  std::string_view cipher;        // {cipher}
  std::string_view cipher_bits;   // {cipher_bits}
  std::string_view cert_subject;  // {cert_subject}
  std::string_view cert_issuer;   // {cert_issuer}
  std::string_view verify;        // {verify} (Sendmail: OK, NO, NOT, FAIL …); may be empty
  std::string_view auth_type;     // {auth_type}; non-empty means SMTP AUTH succeeded
  bool lmtp = false;              // the session was LMTP (LHLO)
};

// The hop into this MTA, with the protocol the MTA would have written (ESMTP/ESMTPS/ESMTPA/
// ESMTPSA, or the LMTP forms): STARTTLS and AUTH both need EHLO, and milters are not told
// HELO from EHLO, so the plain form is reported as ESMTP.
Hop hopFromSession(const LiveSession& session);

}  // namespace mailsec::core::received
