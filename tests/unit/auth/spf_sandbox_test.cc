// spf_sandbox_test.cc — SPF in a forked child: the same verdicts and records as in process,
// DNS answered by the parent's resolver, and a child that crashes, aborts, hangs or lies is
// contained (temperror/other, contained_failure) without harming the caller.
#include "core/auth/spf_sandbox.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <thread>

#include "tests/unit/auth/fake_resolver.h"

namespace mailsec::core::auth {
namespace {

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

}  // namespace
}  // namespace mailsec::core::auth
