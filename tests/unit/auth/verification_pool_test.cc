// verification_pool_test.cc — the bounded pool: runs tasks, refuses when full (never
// blocks), contains throwing tasks, drains with a deadline and destroys what is left.
#include "core/auth/verification_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <stdexcept>

namespace mailsec::core::auth {
namespace {

class Task final : public VerificationTask {
 public:
  Task(std::function<void()> body, std::atomic<int>* destroyed = nullptr)
      : body_(std::move(body)), destroyed_(destroyed) {}
  ~Task() override {
    if (destroyed_ != nullptr) ++*destroyed_;
  }
  void run() override { body_(); }

 private:
  std::function<void()> body_;
  std::atomic<int>* destroyed_;
};

std::unique_ptr<VerificationTask> task(std::function<void()> body,
                                       std::atomic<int>* destroyed = nullptr) {
  return std::make_unique<Task>(std::move(body), destroyed);
}

TEST(VerificationPool, RunsEveryTask) {
  std::atomic<int> ran{0};
  {
    VerificationPool pool(2, 100);
    for (int i = 0; i < 50; ++i) {
      auto t = task([&] { ++ran; });
      ASSERT_TRUE(pool.trySubmit(t));
    }
    pool.stop(std::chrono::seconds(5));
  }
  EXPECT_EQ(ran, 50);
}

TEST(VerificationPool, FullQueueRefusesWithoutBlocking) {
  std::promise<void> release;
  std::shared_future<void> gate = release.get_future().share();
  std::atomic<int> destroyed{0};
  VerificationPool pool(1, 2);
  auto blocker = task([gate] { gate.wait(); });
  ASSERT_TRUE(pool.trySubmit(blocker));
  // Wait until the worker holds the blocker, so the queue is empty again.
  while (pool.queued() != 0) std::this_thread::yield();
  auto a = task([] {}, &destroyed);
  auto b = task([] {}, &destroyed);
  auto c = task([] {}, &destroyed);
  EXPECT_TRUE(pool.trySubmit(a));
  EXPECT_TRUE(pool.trySubmit(b));
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(pool.trySubmit(c));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(50));
  EXPECT_NE(c, nullptr);  // refused: still the caller's
  release.set_value();
  EXPECT_EQ(pool.stop(std::chrono::seconds(5)), 0u);
  c.reset();
  EXPECT_EQ(destroyed, 3);
}

TEST(VerificationPool, ThrowingTaskIsContained) {
  std::atomic<int> errors{0};
  std::atomic<int> ran{0};
  VerificationPool pool(1, 10, [&] { ++errors; });
  auto bad = task([] { throw std::runtime_error("boom"); });
  auto good = task([&] { ++ran; });
  ASSERT_TRUE(pool.trySubmit(bad));
  ASSERT_TRUE(pool.trySubmit(good));
  pool.stop(std::chrono::seconds(5));
  EXPECT_EQ(errors, 1);
  EXPECT_EQ(ran, 1);
}

TEST(VerificationPool, StopDrainsUntilTheDeadlineThenDropsTheRest) {
  std::promise<void> release;
  std::shared_future<void> gate = release.get_future().share();
  std::atomic<int> destroyed{0};
  std::atomic<int> ran{0};
  VerificationPool pool(1, 10);
  auto blocker = task([gate] { gate.wait(); });
  ASSERT_TRUE(pool.trySubmit(blocker));
  for (int i = 0; i < 3; ++i) {
    auto t = task([&] { ++ran; }, &destroyed);
    ASSERT_TRUE(pool.trySubmit(t));
  }
  std::thread releaser([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    release.set_value();
  });
  const auto start = std::chrono::steady_clock::now();
  const std::size_t dropped = pool.stop(std::chrono::milliseconds(100));
  releaser.join();
  EXPECT_EQ(dropped, 3u);
  EXPECT_EQ(ran, 0);
  EXPECT_EQ(destroyed, 3);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  auto late = task([] {});
  EXPECT_FALSE(pool.trySubmit(late));
}

}  // namespace
}  // namespace mailsec::core::auth
