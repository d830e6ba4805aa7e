// spf_sandbox.h — SPF checks contained in a short-lived, unprivileged child process, so that
// a memory bug in libspf2 (record parsing and macro expansion have had remotely triggerable
// ones: CVE-2021-20314, the 2023 integer underflow not fixed in Debian 12, and the stack
// overflow tests/fuzz/spf_records found — docs/auth.md) cannot take the milter down or
// corrupt it.
//
// For each check the verification thread forks a child that drops root (to nobody), sets
// no-new-privs and a CPU limit, closes every inherited descriptor but its socket, and runs
// checkSpf() over a resolver that forwards each DNS query to the parent; the parent answers
// from the shared Resolver (one cache, one DNSSEC policy) and reads the verdict back. A child
// that crashes, aborts (libspf2 abort()s on some invalid arguments), hangs past the deadline
// or sends anything malformed is killed and the check becomes temperror/other with
// `contained_failure` set (counted as an internal error by the caller).
//
// Trusts nothing from the child: every message is bounded and validated. Thread-safety: may be
// called from many threads at once (fork() copies only the calling thread; the child touches
// no lock another thread may hold — it only runs libspf2, malloc and its socket). Errors:
// never throws for content; fork or socket failures also give temperror/other.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <vector>

#include "core/auth/spf_verifier.h"

namespace mailsec::core::auth {

using SpfCheck = std::function<std::optional<SpfVerdict>(Resolver&, const SpfRequest&,
                                                         std::vector<RecordFetch>&)>;

struct SpfSandboxResult {
  std::optional<SpfVerdict> verdict;
  bool contained_failure = false;  // the child crashed, hung or misbehaved
};

inline constexpr std::chrono::milliseconds kSpfSandboxDeadline =
    std::chrono::duration_cast<std::chrono::milliseconds>(kSpfCheckBudget) +
    std::chrono::milliseconds(3000);

// `check` runs in the child (checkSpf; tests inject others).
SpfSandboxResult checkSpfContained(Resolver& resolver, const SpfRequest& request,
                                   std::vector<RecordFetch>& records,
                                   const SpfCheck& check = checkSpf,
                                   std::chrono::milliseconds deadline = kSpfSandboxDeadline);

}  // namespace mailsec::core::auth
