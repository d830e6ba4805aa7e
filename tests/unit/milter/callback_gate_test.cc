// callback_gate_test.cc — close() waits for the callbacks in flight and refuses later ones, so
// the state they use can be destroyed after it returns (milter/callback_gate.h).
#include "milter/callback_gate.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

namespace mailsec::milter {
namespace {

TEST(CallbackGate, CloseWaitsForEntriesInFlightAndRefusesLaterOnes) {
  CallbackGate gate;
  auto state = std::make_unique<int>(0);  // what main destroys after close()
  std::atomic<bool> inside{false};
  std::jthread callback([&] {
    CallbackGate::Entry entry(gate);
    ASSERT_TRUE(entry);
    inside = true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    ++*state;  // still in flight while close() waits
  });
  while (!inside) std::this_thread::yield();
  gate.close();
  EXPECT_EQ(*state, 1);
  state.reset();
  CallbackGate::Entry late(gate);
  EXPECT_FALSE(late);
}

TEST(CallbackGate, ManyThreadsThenClose) {
  CallbackGate gate;
  auto counted = std::make_unique<std::atomic<int>>(0);
  std::atomic<int> refused{0};
  std::vector<std::jthread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 2000; ++i) {
        CallbackGate::Entry entry(gate);
        if (entry)
          ++*counted;
        else
          ++refused;
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(1));
  gate.close();
  const int seen = *counted;
  counted.reset();  // no entry may touch it from now on
  for (auto& t : threads) t.join();
  EXPECT_EQ(seen + refused, 4 * 2000);
}

}  // namespace
}  // namespace mailsec::milter
