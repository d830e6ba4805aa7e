// spf_sandbox_test.cc — SPF in a child process: the same verdicts and records as in process,
// DNS answered by the parent's resolver, and a child that crashes, aborts, hangs or lies is
// contained (temperror/other, contained_failure) without harming the caller. The long-lived
// child: it serves consecutive checks, is replaced after a failure, at the recycle limit and
// when it misbehaves between checks, and does not outlive its thread or its process.
#include "core/auth/spf_sandbox.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <set>
#include <string>
#include <thread>

#include "tests/unit/auth/fake_resolver.h"

namespace mailsec::core::auth {
namespace {

// GCC 12's AddressSanitizer runtime does not hold its allocator's locks across fork(): a
// child forked while another thread of the parent is inside malloc inherits that size class's
// lock held, and deadlocks at its first allocation of that class (seen here: the check waits
// out its 13 s deadline). glibc's malloc, what mailsec runs with, takes its locks around
// fork(), and ThreadSanitizer's runtime does too, so the tests of sandboxes forking from many
// threads at once run in the plain and TSan builds, not under ASan.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kForkUnsafeAllocator = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kForkUnsafeAllocator = true;
#else
constexpr bool kForkUnsafeAllocator = false;
#endif
#else
constexpr bool kForkUnsafeAllocator = false;
#endif
#define SKIP_IF_FORK_UNSAFE_ALLOCATOR()                                                   \
  if (kForkUnsafeAllocator)                                                               \
  GTEST_SKIP() << "ASan's allocator is not fork-safe with other threads allocating (see " \
                  "kForkUnsafeAllocator)"

using testing::FakeResolver;

const SpfRequest kRequest{"192.0.2.7", "h.example.net", "alice@example.org"};

TEST(SpfSandbox, SameVerdictAndRecordsAsInProcess) {
  FakeResolver dns;
  dns.txt("example.org", {"v=spf1 include:inc.example.org -all"}, Dnssec::kSecure);
  dns.txt("inc.example.org", {"v=spf1 ip4:192.0.2.0/24 -all"});
  std::vector<RecordFetch> records;
  const auto contained = checkSpfContained(dns, kRequest, records);
  EXPECT_FALSE(contained.contained_failure);
  ASSERT_TRUE(contained.verdict);
  EXPECT_EQ(contained.verdict->result, SpfResult::kPass);
  EXPECT_EQ(contained.verdict->domain, "example.org");
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].dnssec, Dnssec::kSecure);
  EXPECT_EQ(dns.queries(), 2);  // asked in the parent, on behalf of the child
}

TEST(SpfSandbox, NoVerdictPassesThrough) {
  FakeResolver dns;
  std::vector<RecordFetch> records;
  const auto contained = checkSpfContained(dns, {"127.0.0.1", "h", "a@example.org"}, records);
  EXPECT_FALSE(contained.contained_failure);
  EXPECT_FALSE(contained.verdict);
}

void expectContained(const SpfCheck& check,
                     std::chrono::milliseconds deadline = kSpfSandboxDeadline) {
  FakeResolver dns;
  std::vector<RecordFetch> records;
  const auto start = std::chrono::steady_clock::now();
  const auto contained = checkSpfContained(dns, kRequest, records, check, deadline);
  EXPECT_TRUE(contained.contained_failure);
  ASSERT_TRUE(contained.verdict);
  EXPECT_EQ(contained.verdict->result, SpfResult::kTemperror);
  EXPECT_EQ(contained.verdict->error, SpfError::kOther);
  EXPECT_EQ(contained.verdict->domain, "example.org");
  EXPECT_TRUE(records.empty());
  EXPECT_LT(std::chrono::steady_clock::now() - start, deadline + std::chrono::seconds(2));
}

TEST(SpfSandbox, CrashIsContained) {
  expectContained(
      [](Resolver&, const SpfRequest&, std::vector<RecordFetch>&) -> std::optional<SpfVerdict> {
        std::raise(SIGSEGV);
        return std::nullopt;
      });
}

TEST(SpfSandbox, AbortIsContained) {
  expectContained([](Resolver&, const SpfRequest&,
                     std::vector<RecordFetch>&) -> std::optional<SpfVerdict> { std::abort(); });
}

TEST(SpfSandbox, HangIsKilledAtTheDeadline) {
  expectContained(
      [](Resolver&, const SpfRequest&, std::vector<RecordFetch>&) -> std::optional<SpfVerdict> {
        for (;;) pause();
      },
      std::chrono::milliseconds(300));
}

TEST(SpfSandbox, ChildThatExitsWithoutAnswerIsContained) {
  expectContained([](Resolver&, const SpfRequest&,
                     std::vector<RecordFetch>&) -> std::optional<SpfVerdict> { _exit(0); });
}

TEST(SpfSandbox, ChildRunsWithoutRoot) {
  // The check reports the child's uid through the verdict's domain.
  FakeResolver dns;
  std::vector<RecordFetch> records;
  const auto contained = checkSpfContained(
      dns, kRequest, records,
      [](Resolver&, const SpfRequest&, std::vector<RecordFetch>&) -> std::optional<SpfVerdict> {
        SpfVerdict v;
        v.result = SpfResult::kNone;
        v.domain = ::getuid() == 0 ? "root.example" : "nonroot.example";
        return v;
      });
  ASSERT_TRUE(contained.verdict);
  EXPECT_EQ(contained.verdict->domain, "nonroot.example");
}

TEST(SpfSandbox, ManyThreadsAtOnce) {
  SKIP_IF_FORK_UNSAFE_ALLOCATOR();
  FakeResolver dns;
  dns.txt("example.org", {"v=spf1 ip4:192.0.2.0/24 -all"});
  std::atomic<int> passes{0};
  {
    std::vector<std::jthread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&] {
        for (int i = 0; i < 10; ++i) {
          std::vector<RecordFetch> records;
          const auto c = checkSpfContained(dns, kRequest, records);
          if (c.verdict && c.verdict->result == SpfResult::kPass) ++passes;
        }
      });
    }
  }
  EXPECT_EQ(passes, 40);
}

// The child reports its pid (and, on request, other facts) through the verdict's domain; a
// HELO of "crash" makes it crash, "hang" makes it hang.
std::optional<SpfVerdict> pidCheck(Resolver&, const SpfRequest& request,
                                   std::vector<RecordFetch>&) {
  if (request.helo == "crash") std::raise(SIGSEGV);
  if (request.helo == "hang") {
    for (;;) pause();
  }
  SpfVerdict v;
  v.result = SpfResult::kNone;
  v.domain = "p" + std::to_string(::getpid()) + ".example";
  if (request.helo == "limits") {
    rlimit cpu{};
    ::getrlimit(RLIMIT_CPU, &cpu);
    v.domain = "cpu" + std::to_string(cpu.rlim_max) + ".uid" + std::to_string(::getuid()) + ".nnp" +
               std::to_string(::prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0)) + ".example";
  }
  return v;
}

std::string pidDomain(pid_t pid) { return "p" + std::to_string(pid) + ".example"; }

SpfSandboxResult run(SpfSandbox& sandbox, std::string helo = "h.example.net") {
  FakeResolver dns;
  std::vector<RecordFetch> records;
  return sandbox.check(dns, {"192.0.2.7", std::move(helo), "alice@example.org"}, records);
}

// Reaped: no such process any more (neither running nor a zombie).
bool gone(pid_t pid) { return ::kill(pid, 0) != 0 && errno == ESRCH; }

TEST(SpfSandbox, TheSameChildServesConsecutiveChecks) {
  SpfSandbox sandbox(pidCheck);
  EXPECT_EQ(sandbox.childPid(), 0);
  const auto first = run(sandbox);
  ASSERT_TRUE(first.verdict);
  const pid_t child = sandbox.childPid();
  ASSERT_GT(child, 0);
  EXPECT_NE(child, ::getpid());
  EXPECT_EQ(first.verdict->domain, pidDomain(child));
  for (int i = 0; i < 20; ++i) {
    const auto next = run(sandbox);
    EXPECT_FALSE(next.contained_failure);
    EXPECT_FALSE(next.replaced_child);
    ASSERT_TRUE(next.verdict);
    EXPECT_EQ(next.verdict->domain, pidDomain(child));
  }
  EXPECT_EQ(sandbox.childPid(), child);
  EXPECT_EQ(sandbox.checksByChild(), 21);
}

TEST(SpfSandbox, TheThreadsSandboxReusesItsChildForRealChecks) {
  FakeResolver dns;
  dns.txt("example.org", {"v=spf1 ip4:192.0.2.0/24 -all"});
  std::vector<RecordFetch> records;
  ASSERT_EQ(checkSpfContained(dns, kRequest, records).verdict->result, SpfResult::kPass);
  const pid_t child = threadSpfSandbox().childPid();
  const int checks = threadSpfSandbox().checksByChild();
  ASSERT_GT(child, 0);
  for (int i = 0; i < 5; ++i) {
    const auto c = checkSpfContained(dns, kRequest, records);
    ASSERT_TRUE(c.verdict);
    EXPECT_EQ(c.verdict->result, SpfResult::kPass);
  }
  EXPECT_EQ(threadSpfSandbox().childPid(), child);
  EXPECT_EQ(threadSpfSandbox().checksByChild(), checks + 5);
  EXPECT_EQ(records.size(), 6u);
  EXPECT_EQ(dns.queries(), 6);
}

TEST(SpfSandbox, TheLongLivedChildKeepsTheLimits) {
  SpfSandbox sandbox(pidCheck);
  run(sandbox);
  const auto limits = run(sandbox, "limits");  // the second check, in the same child
  ASSERT_TRUE(limits.verdict);
  EXPECT_EQ(limits.verdict->domain.substr(0, 6),
            "cpu" + std::to_string(kSpfChildCpuLimit.count()) + ".");
  EXPECT_EQ(limits.verdict->domain.find(".uid0."), std::string::npos);
  EXPECT_NE(limits.verdict->domain.find(".nnp1."), std::string::npos);
}

TEST(SpfSandbox, ACrashIsContainedAndTheNextCheckGetsAFreshChild) {
  SpfSandbox sandbox(pidCheck);
  ASSERT_TRUE(run(sandbox).verdict);
  const pid_t first = sandbox.childPid();
  const auto crashed = run(sandbox, "crash");
  EXPECT_TRUE(crashed.contained_failure);
  ASSERT_TRUE(crashed.verdict);
  EXPECT_EQ(crashed.verdict->result, SpfResult::kTemperror);
  EXPECT_EQ(crashed.verdict->error, SpfError::kOther);
  EXPECT_EQ(sandbox.childPid(), 0);
  EXPECT_TRUE(gone(first));
  const auto next = run(sandbox);
  EXPECT_FALSE(next.contained_failure);
  ASSERT_TRUE(next.verdict);
  EXPECT_EQ(next.verdict->result, SpfResult::kNone);
  EXPECT_NE(sandbox.childPid(), first);
  EXPECT_EQ(next.verdict->domain, pidDomain(sandbox.childPid()));
}

TEST(SpfSandbox, AHangIsKilledAndTheNextCheckGetsAFreshChild) {
  SpfSandbox sandbox(pidCheck, {.deadline = std::chrono::milliseconds(300)});
  ASSERT_TRUE(run(sandbox).verdict);
  const pid_t first = sandbox.childPid();
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(run(sandbox, "hang").contained_failure);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
  EXPECT_TRUE(gone(first));
  const auto next = run(sandbox);
  ASSERT_TRUE(next.verdict);
  EXPECT_EQ(next.verdict->domain, pidDomain(sandbox.childPid()));
  EXPECT_NE(sandbox.childPid(), first);
}

TEST(SpfSandbox, TheRecycleLimitReplacesTheChild) {
  SpfSandbox sandbox(pidCheck, {.checks_per_child = 3});
  std::vector<pid_t> pids;
  for (int i = 0; i < 7; ++i) {
    const auto c = run(sandbox);
    EXPECT_FALSE(c.contained_failure);
    EXPECT_FALSE(c.replaced_child);
    ASSERT_TRUE(c.verdict);
    EXPECT_EQ(c.verdict->domain, pidDomain(sandbox.childPid()));
    pids.push_back(sandbox.childPid());
  }
  EXPECT_EQ(pids[0], pids[1]);
  EXPECT_EQ(pids[0], pids[2]);
  EXPECT_NE(pids[3], pids[0]);
  EXPECT_EQ(pids[3], pids[4]);
  EXPECT_EQ(pids[3], pids[5]);
  EXPECT_NE(pids[6], pids[3]);
  EXPECT_TRUE(gone(pids[0]));
  EXPECT_TRUE(gone(pids[3]));
  EXPECT_EQ(sandbox.checksByChild(), 1);
}

TEST(SpfSandbox, TheDefaultRecycleLimitIsBounded) {
  EXPECT_EQ(SpfSandboxOptions{}.checks_per_child, kSpfChecksPerChild);
  EXPECT_GT(kSpfChecksPerChild, 1);
  EXPECT_LE(kSpfChecksPerChild, 1000);
  EXPECT_LT(kSpfChildCpuRecycle, kSpfChildCpuLimit);
}

// In the child: the socket to the parent (the only descriptor above 2 it keeps).
volatile sig_atomic_t g_child_socket = -1;

int childSocket() {
  for (int fd = 3; fd < 1024; ++fd) {
    if (::fcntl(fd, F_GETFD) != -1) return fd;
  }
  return -1;
}

void timerInChild(int signal_number, void (*handler)(int)) {
  g_child_socket = childSocket();
  struct sigaction action {};
  action.sa_handler = handler;
  ::sigaction(signal_number, &action, nullptr);
  itimerval timer{};
  timer.it_value.tv_usec = 20'000;  // after the verdict has gone
  ::setitimer(ITIMER_REAL, &timer, nullptr);
}

// Between checks the child writes a frame nobody asked for...
std::optional<SpfVerdict> unaskedDataCheck(Resolver& r, const SpfRequest& request,
                                           std::vector<RecordFetch>& records) {
  if (request.helo == "arm") {
    timerInChild(SIGALRM, [](int) {
      const char frame[] = {1, 0, 0, 0, 'V'};
      [[maybe_unused]] const auto n = ::write(g_child_socket, frame, sizeof frame);
    });
  }
  return pidCheck(r, request, records);
}

// ...or computes.
std::optional<SpfVerdict> idleCpuCheck(Resolver& r, const SpfRequest& request,
                                       std::vector<RecordFetch>& records) {
  if (request.helo == "arm") {
    timerInChild(SIGALRM, [](int) {
      timespec start{}, now{};
      ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &start);
      do {
        ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
      } while ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1'000'000 <
               300);
    });
  }
  return pidCheck(r, request, records);
}

void expectReplacedAfterMisbehaving(const SpfCheck& check, std::chrono::milliseconds wait) {
  SpfSandbox sandbox(check);
  const auto armed = run(sandbox, "arm");
  EXPECT_FALSE(armed.contained_failure);
  ASSERT_TRUE(armed.verdict);
  const pid_t first = sandbox.childPid();
  std::this_thread::sleep_for(wait);
  const auto next = run(sandbox);
  EXPECT_TRUE(next.replaced_child);
  EXPECT_FALSE(next.contained_failure);
  ASSERT_TRUE(next.verdict);
  EXPECT_NE(sandbox.childPid(), first);
  EXPECT_EQ(next.verdict->domain, pidDomain(sandbox.childPid()));
  EXPECT_TRUE(gone(first));
}

TEST(SpfSandbox, AChildThatSendsUnaskedDataIsReplacedBeforeTheNextCheck) {
  expectReplacedAfterMisbehaving(unaskedDataCheck, std::chrono::milliseconds(300));
}

TEST(SpfSandbox, AChildThatComputesBetweenChecksIsReplaced) {
  expectReplacedAfterMisbehaving(idleCpuCheck, std::chrono::milliseconds(1500));
}

TEST(SpfSandbox, AChildThatStopsReadingCannotBlockTheParent) {
  // The child asks for a large answer by hand, then never reads it.
  FakeResolver dns;
  dns.txt("big.example", std::vector<std::string>(64, std::string(60000, 'x')));
  SpfSandbox sandbox(
      [](Resolver&, const SpfRequest&, std::vector<RecordFetch>&) -> std::optional<SpfVerdict> {
        const int fd = childSocket();
        const std::string name = "big.example";
        std::string frame(4, '\0');
        frame += 'Q';
        const std::uint16_t type = rrtype::kTxt;
        frame.append(reinterpret_cast<const char*>(&type), sizeof type);
        const auto size = static_cast<std::uint32_t>(name.size());
        frame.append(reinterpret_cast<const char*>(&size), sizeof size);
        frame += name;
        const auto length = static_cast<std::uint32_t>(frame.size() - 4);
        std::memcpy(frame.data(), &length, sizeof length);
        [[maybe_unused]] const auto n = ::write(fd, frame.data(), frame.size());
        for (;;) pause();
      },
      {.deadline = std::chrono::milliseconds(300)});
  std::vector<RecordFetch> records;
  const auto start = std::chrono::steady_clock::now();
  const auto contained = sandbox.check(dns, kRequest, records);
  EXPECT_TRUE(contained.contained_failure);
  EXPECT_EQ(dns.queries(), 1);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
}

TEST(SpfSandbox, ConcurrentThreadsEachGetTheirOwnVerdicts) {
  SKIP_IF_FORK_UNSAFE_ALLOCATOR();
  FakeResolver dns;
  constexpr int kThreads = 4;
  for (int t = 0; t < kThreads; ++t) {
    // Even threads' senders pass, odd ones fail.
    dns.txt("t" + std::to_string(t) + ".example",
            {t % 2 == 0 ? "v=spf1 ip4:192.0.2.0/24 -all" : "v=spf1 ip4:198.51.100.0/24 -all"});
  }
  std::atomic<int> right{0};
  std::vector<pid_t> children(kThreads);
  {
    std::vector<std::jthread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        const std::string domain = "t" + std::to_string(t) + ".example";
        const SpfResult expected = t % 2 == 0 ? SpfResult::kPass : SpfResult::kFail;
        for (int i = 0; i < 25; ++i) {
          std::vector<RecordFetch> records;
          const auto c =
              checkSpfContained(dns, {"192.0.2.7", "h.example.net", "u@" + domain}, records);
          if (!c.contained_failure && c.verdict && c.verdict->result == expected &&
              c.verdict->domain == domain && records.size() == 1) {
            ++right;
          }
        }
        children[static_cast<std::size_t>(t)] = threadSpfSandbox().childPid();
      });
    }
  }
  EXPECT_EQ(right, kThreads * 25);
  EXPECT_EQ(std::set<pid_t>(children.begin(), children.end()).size(), std::size_t{kThreads});
  for (const pid_t child : children) EXPECT_TRUE(gone(child));  // ended with their threads
}

TEST(SpfSandbox, TheChildEndsWithItsThread) {
  pid_t child = 0;
  std::thread([&] {
    FakeResolver dns;
    std::vector<RecordFetch> records;
    checkSpfContained(dns, kRequest, records);
    child = threadSpfSandbox().childPid();
  }).join();
  ASSERT_GT(child, 0);
  EXPECT_TRUE(gone(child));
}

TEST(SpfSandbox, TheChildEndsWithItsProcess) {
  // A process that starts a child and ends without any destructor (_exit): the child is
  // re-parented to this process (a subreaper for the test), which must see it end.
  ASSERT_EQ(::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), 0);
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  const pid_t middle = ::fork();
  ASSERT_GE(middle, 0);
  if (middle == 0) {
    ::close(pipe_fds[0]);
    SpfSandbox* sandbox = new SpfSandbox(pidCheck);  // never destroyed
    FakeResolver dns;
    std::vector<RecordFetch> records;
    sandbox->check(dns, kRequest, records);
    const pid_t child = sandbox->childPid();
    [[maybe_unused]] const auto n = ::write(pipe_fds[1], &child, sizeof child);
    _exit(0);
  }
  ::close(pipe_fds[1]);
  pid_t child = 0;
  const auto n = ::read(pipe_fds[0], &child, sizeof child);
  ::close(pipe_fds[0]);
  int status = 0;
  ASSERT_EQ(::waitpid(middle, &status, 0), middle);
  ASSERT_EQ(n, static_cast<ssize_t>(sizeof child));
  ASSERT_GT(child, 0);
  bool ended = false;
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!ended && std::chrono::steady_clock::now() < until) {
    const pid_t reaped = ::waitpid(child, &status, WNOHANG);
    ended = reaped == child || (reaped < 0 && errno == ECHILD && gone(child));
    if (!ended) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ::prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0);
  EXPECT_TRUE(ended);
}

}  // namespace
}  // namespace mailsec::core::auth
