// unbound_resolver.h — the production Resolver: libunbound with one shared cache, forwarders
// from the config (or the system resolver), a per-lookup deadline, and DNSSEC validation
// against dns-root-data's root anchor (plus configured anchors), switchable off.
//
// Two libunbound behaviours are handled here (design.md, "libunbound facts"):
// - after a few timeouts it marks a forwarder down and answers SERVFAIL for the infra cache's
//   lifetime: infra-host-ttl is short and infra-keep-probing is on, so a resolver hiccup ends
//   within seconds (tests/unit/auth/unbound_resolver_test.cc, OutageThenRecovery);
// - its default local zones answer reverse lookups for private and documentation ranges
//   itself: they are turned off through a generated ub_ctx_config file (ub_ctx_set_option
//   cannot), so PTR lookups reach the forwarder like any other.
//
// - a forwarder that returns no DNSSEC signatures (strips RRSIGs, ignores the DO bit: many
//   home routers and some cloud resolvers) makes every validated answer bogus. createProbed()
//   asks it for ". DNSKEY" once at start-up; bogus there means validation cannot work through
//   it, and the resolver is rebuilt without validation (every answer Dnssec::kUnknown). The
//   caller logs dnssecProbeMessage() and counts it (tests/unit/auth/unbound_resolver_test.cc,
//   tests/integration/test_dnssec_probe.py).
//
// Trusts: answers are attacker-influenced; they are passed on as wire data for callers to
// bound. Thread-safety: query() may be called from any number of threads at once (one
// ub_ctx in async mode; a dispatcher thread delivers results). Construct only after the
// process has blocked the signals libmilter owns (the dispatcher thread inherits the mask).
// Errors: create() returns nullptr with a message for bad options or a missing trust anchor;
// query() never throws and never waits longer than timeout_ms; createProbed() waits at most
// probe_timeout_ms more (call it at start-up, never on the SMTP path).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "core/auth/resolver.h"

struct ub_ctx;

namespace mailsec::core::auth {

// What createProbed()'s start-up look-up of ". DNSKEY" through the forwarders found.
struct DnssecProbe {
  enum class Outcome : std::uint8_t {
    kNotRun,       // dns.dnssec: off — nothing to probe
    kValidated,    // the answer validated (or no anchor covers the root): validation stays on
    kUnsigned,     // bogus: the forwarders return no usable signatures; validation turned off
    kUnreachable,  // no answer in time: nothing learned, validation stays on
    kFailed,       // another failure (REFUSED, a SERVFAIL not from validation): stays on
  };
  Outcome outcome = Outcome::kNotRun;
  std::string why_bogus;   // libunbound's reason (kUnsigned)
  std::string forwarders;  // who was asked: "10.255.255.53, 127.0.0.1@5353"
};

// The one log line for a probe outcome that needs one (kUnsigned, kUnreachable, kFailed), or
// "" (kNotRun, kValidated).
std::string dnssecProbeMessage(const DnssecProbe& probe, std::uint32_t probe_timeout_ms);

class UnboundResolver final : public Resolver {
 public:
  static constexpr std::uint32_t kProbeTimeoutMs = 3000;

  static std::unique_ptr<UnboundResolver> create(const ResolverOptions& options,
                                                 std::string& error);
  // create(), then, when validation is on, the probe described above (one look-up, at most
  // probe_timeout_ms); on kUnsigned the returned resolver does not validate.
  static std::unique_ptr<UnboundResolver> createProbed(
      const ResolverOptions& options, DnssecProbe& probe, std::string& error,
      std::uint32_t probe_timeout_ms = kProbeTimeoutMs);
  ~UnboundResolver() override;
  UnboundResolver(const UnboundResolver&) = delete;
  UnboundResolver& operator=(const UnboundResolver&) = delete;

  DnsAnswer query(std::string_view name, std::uint16_t type) override;
  bool validating() const { return options_.dnssec_validate; }

 private:
  UnboundResolver(ub_ctx* ctx, ResolverOptions options);
  void dispatch(std::stop_token stop);
  // query() with its own deadline; a bogus answer's reason goes to *why_bogus.
  DnsAnswer lookUp(std::string_view name, std::uint16_t type, std::uint32_t timeout_ms,
                   std::string* why_bogus);

  ub_ctx* ctx_;
  ResolverOptions options_;
  std::jthread dispatcher_;  // last: starts after, stops before, the members above
};

}  // namespace mailsec::core::auth
