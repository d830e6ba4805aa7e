// spf_sandbox.h — SPF checks contained in a long-lived, unprivileged child process per
// verification thread, so that a memory bug in libspf2 (record parsing and macro expansion
// have had remotely triggerable ones: CVE-2021-20314, the 2023 integer underflow not fixed in
// Debian 12, and the stack overflow tests/fuzz/spf_records found — docs/auth.md) cannot take
// the milter down or corrupt it.
//
// An SpfSandbox forks one child on its first check and hands it check after check. The child
// drops root (to nobody), sets no-new-privs, a CPU limit over its life and no core dumps,
// closes every inherited descriptor but its socket, and runs checkSpf() over a resolver that
// forwards each DNS query to the parent; the parent answers from the shared Resolver (one
// cache, one DNSSEC policy) and reads the verdict back. A child that crashes, aborts (libspf2
// abort()s on some invalid arguments), hangs past the per-check deadline or sends anything
// malformed is killed and the check becomes temperror/other with `contained_failure` set
// (counted as an internal error by the caller); the next check forks a fresh child. A child
// that misbehaves between checks (sends unasked data, exits, uses CPU while idle) is killed
// before the next check, which gets a fresh child (`replaced_child`). A child is replaced
// after kSpfChecksPerChild checks or kSpfChildCpuRecycle of CPU: a child compromised by one
// sender's records could falsify the verdicts of the checks after it, and this bounds how many
// (the trade-off is in docs/auth.md). The child exits when its socket closes and is killed
// (PR_SET_PDEATHSIG) when the thread that forked it ends; the destructor ends and reaps it.
//
// Trusts nothing from the child: every message is bounded and validated, and the parent's
// sends and reads during a check stop at its deadline. Must not: run libspf2 in the milter
// process, let the child hold a descriptor other than its socket, or reuse a child after any
// failure. Thread-safety: one SpfSandbox is used by one thread at a time (threadSpfSandbox()
// gives each thread its own); any number of sandboxes may work at once (fork() copies only the
// calling thread; the child touches no lock another thread may hold — it only runs libspf2,
// malloc and its socket). Errors: never throws for content; fork or socket failures also give
// temperror/other.
#pragma once

#include <sys/types.h>

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
  bool contained_failure = false;  // the child crashed, hung or misbehaved during this check
  bool replaced_child = false;     // a child that misbehaved between checks was killed first
};

inline constexpr std::chrono::milliseconds kSpfSandboxDeadline =
    std::chrono::duration_cast<std::chrono::milliseconds>(kSpfCheckBudget) +
    std::chrono::milliseconds(3000);

// Checks one child serves before it is replaced: bounds how many later checks (other senders'
// verdicts) a child compromised by one sender's records could influence.
inline constexpr int kSpfChecksPerChild = 1000;
// RLIMIT_CPU of a child over its whole life (the kernel kills it there; it cannot raise it)...
inline constexpr std::chrono::seconds kSpfChildCpuLimit{15};
// ...and the CPU after which it is replaced before its next check, so every check starts with
// at least kSpfChildCpuLimit - kSpfChildCpuRecycle (10 s) of CPU left, besides the deadline.
inline constexpr std::chrono::seconds kSpfChildCpuRecycle{5};
// CPU a child may use between two checks (finishing the last one) before it counts as
// misbehaving.
inline constexpr std::chrono::milliseconds kSpfChildIdleCpu{50};

struct SpfSandboxOptions {
  int checks_per_child = kSpfChecksPerChild;
  std::chrono::milliseconds deadline = kSpfSandboxDeadline;  // per check
};

class SpfSandbox {
 public:
  // `check` runs in the child (checkSpf; tests inject others).
  explicit SpfSandbox(SpfCheck check = checkSpf, SpfSandboxOptions options = {});
  ~SpfSandbox();  // ends (retire(true)) and reaps the child
  SpfSandbox(const SpfSandbox&) = delete;
  SpfSandbox& operator=(const SpfSandbox&) = delete;

  // Appends the check's records to `records` only when the child answered properly.
  SpfSandboxResult check(Resolver& resolver, const SpfRequest& request,
                         std::vector<RecordFetch>& records);

  pid_t childPid() const { return child_; }  // 0: no child now
  int checksByChild() const { return checks_; }

 private:
  bool spawn();
  // Kills (a failure or misbehaviour) or closes the socket and waits for the exit (at most
  // 1 s, then kills: a recycle, the destructor); reaps it either way.
  void retire(bool gracefully = false);
  bool childIdleAndHealthy();
  std::chrono::nanoseconds childCpu() const;

  SpfCheck check_;
  SpfSandboxOptions options_;
  pid_t child_ = 0;
  int fd_ = -1;
  int checks_ = 0;
  std::uint32_t sequence_ = 0;
  bool has_cpu_clock_ = false;
  clockid_t cpu_clock_{};
  std::chrono::nanoseconds cpu_after_last_{0};
};

// The calling thread's sandbox (checkSpf, kSpfSandboxDeadline); its child ends with the thread.
SpfSandbox& threadSpfSandbox();

// checkSpf in the calling thread's long-lived child.
SpfSandboxResult checkSpfContained(Resolver& resolver, const SpfRequest& request,
                                   std::vector<RecordFetch>& records);

// `check` with `deadline` in a child of its own, forked for this check only.
SpfSandboxResult checkSpfContained(Resolver& resolver, const SpfRequest& request,
                                   std::vector<RecordFetch>& records, const SpfCheck& check,
                                   std::chrono::milliseconds deadline = kSpfSandboxDeadline);

}  // namespace mailsec::core::auth
