// verification_pool.h — a bounded queue and N worker threads for the work that must never
// run in the SMTP dialogue (DNS lookups, signature checks). trySubmit() never blocks: when
// the queue is full (or the pool is stopping) it refuses, and the caller counts the drop.
//
// Trusts: its callers. Thread-safety: trySubmit() from any thread; stop() once, from the
// owner. Start the pool only after the process has blocked the signals libmilter owns (the
// workers inherit the mask). Errors: a task that throws is contained (counted through
// `on_task_error`); a job that is never run (dropped at stop) is destroyed, which frees its
// per-message state.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace mailsec::core::auth {

class VerificationTask {
 public:
  virtual ~VerificationTask() = default;
  virtual void run() = 0;
};

class VerificationPool {
 public:
  VerificationPool(std::size_t workers, std::size_t capacity,
                   std::function<void()> on_task_error = {});
  ~VerificationPool();  // stop(kDefaultDrain) if still running
  VerificationPool(const VerificationPool&) = delete;
  VerificationPool& operator=(const VerificationPool&) = delete;

  static constexpr std::chrono::milliseconds kDefaultDrain{5000};

  // Queues `task`; false (and `task` untouched) when the queue is full or the pool stopped.
  bool trySubmit(std::unique_ptr<VerificationTask>& task);

  // Refuses new tasks, lets the workers finish queued ones until `drain` has passed, then
  // destroys what is left and joins. Returns how many queued tasks were never run.
  // `before_join` runs after the drain, before waiting for the tasks still running (to make
  // them finish fast).
  std::size_t stop(std::chrono::milliseconds drain = kDefaultDrain,
                   const std::function<void()>& before_join = {});

  std::size_t queued() const;

 private:
  void work(std::stop_token stop);

  const std::size_t capacity_;
  std::function<void()> on_task_error_;
  mutable std::mutex mutex_;
  std::condition_variable_any ready_;
  std::deque<std::unique_ptr<VerificationTask>> queue_;
  std::size_t running_ = 0;  // tasks taken by a worker and not finished
  bool accepting_ = true;
  bool stopped_ = false;
  std::vector<std::jthread> workers_;  // last: started after, joined before, the above
};

}  // namespace mailsec::core::auth
