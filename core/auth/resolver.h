// resolver.h — the one DNS interface every verifier (SPF, DKIM, DMARC) uses, so they share one
// cache, one set of timeouts and forwarders, and one DNSSEC policy, and so unit tests can hand
// them a fake and integration tests a real resolver pointed at a local test DNS server.
//
// Trusts: answers are attacker-influenced (a sender controls its zone): callers bound and
// validate everything they read from rdata/packet. Thread-safety: implementations must be safe
// to call from many verification threads at once. Errors: never throws for DNS failures —
// they are a DnsStatus; calls are blocking but bounded by the implementation's timeout, and are
// only ever made off the SMTP path (on the verification pool).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/auth/verdicts.h"

namespace mailsec::core::auth {

enum class DnsStatus : std::uint8_t {
  kAnswer,    // NOERROR with at least one record of the asked type
  kNoData,    // NOERROR, no record of that type
  kNxDomain,  // the name does not exist
  kTimeout,   // no answer in time
  kServFail,  // SERVFAIL, or DNSSEC validation failed (dnssec == kBogus)
  kError      // anything else (REFUSED, malformed reply, resolver failure)
};

// RR types the verifiers ask for.
namespace rrtype {
inline constexpr std::uint16_t kA = 1;
inline constexpr std::uint16_t kPtr = 12;
inline constexpr std::uint16_t kMx = 15;
inline constexpr std::uint16_t kTxt = 16;
inline constexpr std::uint16_t kAaaa = 28;
}  // namespace rrtype

struct DnsAnswer {
  DnsStatus status = DnsStatus::kError;
  Dnssec dnssec = Dnssec::kUnknown;
  int rcode = -1;                  // the reply's RCODE, -1 when none came
  std::vector<std::string> rdata;  // wire-format rdata of each answer RR of the asked type
  std::string packet;              // the whole wire-format reply (libopendkim parses packets)
};

class Resolver {
 public:
  virtual ~Resolver() = default;
  // Looks `name` (a presentation-format domain name, no trailing dot needed) up for `type`.
  virtual DnsAnswer query(std::string_view name, std::uint16_t type) = 0;
};

// How the production resolver (UnboundResolver) is set up; config's `dns:` section.
struct ResolverOptions {
  // unbound forward-addr syntax, IP or IP@PORT; empty: the system resolver (/etc/resolv.conf).
  std::vector<std::string> forwarders;
  std::uint32_t timeout_ms = 1500;  // per lookup, then DnsStatus::kTimeout
  bool dnssec_validate = true;      // false: every answer is Dnssec::kUnknown
  // Trust anchors (DS or DNSKEY zone-file lines) besides the root anchor.
  std::vector<std::string> trust_anchor_files;
  std::string root_anchor_file = "/usr/share/dns/root.ds";  // dns-root-data
  std::string resolv_conf = "/etc/resolv.conf";
};

// Checks one forwarder in unbound's forward-addr syntax (IP or IP@PORT); "" when valid.
std::string validateForwarder(std::string_view forwarder);

// The TXT records of an answer, each record's character-strings concatenated (RFC 7208 §3.3,
// RFC 6376 §3.6.2.2). Malformed rdata is skipped.
std::vector<std::string> txtRecords(const DnsAnswer& answer);

}  // namespace mailsec::core::auth
