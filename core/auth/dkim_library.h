// dkim_library.h — the process-wide libopendkim library handle (DKIM_LIB), set up once for
// verification and bound to mailsec's Resolver.
//
// libopendkim's own resolver keeps one resolver state in the library handle and uses it from
// every thread without a lock; this wrapper replaces it through dkim_dns_set_query_service /
// _start / _cancel / _waitreply, so every key lookup goes to the shared Resolver (its cache,
// timeouts, forwarders and DNSSEC status). The hooks never let an exception out into C.
// It also sets the library flags the verifier relies on:
//   DKIM_LIBFLAGS_DELAYSIGPROC — without it dkim_eoh() fetches every signature's key (DNS on
//     the SMTP path); with it keys are fetched in dkim_eom(), which runs on the pool thread;
//   DKIM_LIBFLAGS_BADSIGHANDLES — keep signatures with syntax errors in the signature list,
//     so they get a verdict (permerror/syntax) instead of vanishing;
//   DKIM_LIBFLAGS_FIXCRLF — accept bare LF line ends (mailsec-inspect reads files);
//   DKIM_OPTS_MINKEYBITS — RSA keys under min_key_bits fail as key_too_small.
//
// Trusts: the Resolver's answers are a sender's zone data (libopendkim parses them; the hooks
// only copy a bounded packet). Thread-safety: after construction the library is used by many
// DkimVerifiers on many threads at once, as libopendkim allows for a configured DKIM_LIB;
// construct and destroy it while no verifier exists. Errors: the constructor throws
// std::runtime_error when libopendkim cannot be initialised or configured (start-up, fatal).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "core/auth/resolver.h"
#include "core/auth/verdicts.h"

struct dkim_lib;  // libopendkim's DKIM_LIB

namespace mailsec::core::auth {

struct DkimLibraryOptions {
  unsigned min_key_bits = 1024;  // RFC 8301 §3.2: verifiers MUST NOT accept smaller RSA keys
};

class DkimLibrary {
 public:
  explicit DkimLibrary(Resolver& resolver, const DkimLibraryOptions& options = {});
  ~DkimLibrary();
  DkimLibrary(const DkimLibrary&) = delete;
  DkimLibrary& operator=(const DkimLibrary&) = delete;

  // Whether this libopendkim verifies ed25519-sha256 (RFC 8463); Debian 12's 2.11 does.
  bool supportsEd25519() const;

  Resolver& resolver() const { return *resolver_; }
  dkim_lib* handle() const { return lib_; }

 private:
  Resolver* resolver_;
  dkim_lib* lib_ = nullptr;
};

namespace dkim_detail {
// Installs DkimVerifier's prescreen callback (dkim_verifier.cc) on a new library handle:
// library-wide, so it is set once, before any verifier exists, not by each verifier.
void installPrescreen(dkim_lib* lib);

// While alive on a thread, every key record the hooks fetch on that thread (an answer with
// data, or a DNSSEC-bogus one) is appended to `log` (DkimVerifier::finish uses it: libopendkim runs
// the lookups synchronously inside dkim_eom on the calling thread). Scopes do not nest.
class FetchLogScope {
 public:
  explicit FetchLogScope(std::vector<RecordFetch>& log);
  ~FetchLogScope();
  FetchLogScope(const FetchLogScope&) = delete;
  FetchLogScope& operator=(const FetchLogScope&) = delete;
};
}  // namespace dkim_detail

}  // namespace mailsec::core::auth
