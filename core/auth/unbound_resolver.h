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
// Trusts: answers are attacker-influenced; they are passed on as wire data for callers to
// bound. Thread-safety: query() may be called from any number of threads at once (one
// ub_ctx in async mode; a dispatcher thread delivers results). Construct only after the
// process has blocked the signals libmilter owns (the dispatcher thread inherits the mask).
// Errors: create() returns nullptr with a message for bad options or a missing trust anchor;
// query() never throws and never waits longer than timeout_ms.
#pragma once

#include <memory>
#include <string>
#include <thread>

#include "core/auth/resolver.h"

struct ub_ctx;

namespace mailsec::core::auth {

class UnboundResolver final : public Resolver {
 public:
  static std::unique_ptr<UnboundResolver> create(const ResolverOptions& options,
                                                 std::string& error);
  ~UnboundResolver() override;
  UnboundResolver(const UnboundResolver&) = delete;
  UnboundResolver& operator=(const UnboundResolver&) = delete;

  DnsAnswer query(std::string_view name, std::uint16_t type) override;

 private:
  UnboundResolver(ub_ctx* ctx, ResolverOptions options);
  void dispatch(std::stop_token stop);

  ub_ctx* ctx_;
  ResolverOptions options_;
  std::jthread dispatcher_;  // last: starts after, stops before, the members above
};

}  // namespace mailsec::core::auth
