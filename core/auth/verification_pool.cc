#include "core/auth/verification_pool.h"

namespace mailsec::core::auth {

VerificationPool::VerificationPool(std::size_t workers, std::size_t capacity,
                                   std::function<void()> on_task_error)
    : capacity_(capacity), on_task_error_(std::move(on_task_error)) {
  workers_.reserve(workers);
  for (std::size_t i = 0; i < workers; ++i) {
    workers_.emplace_back([this](std::stop_token stop) { work(std::move(stop)); });
  }
}

VerificationPool::~VerificationPool() { stop(); }

bool VerificationPool::trySubmit(std::unique_ptr<VerificationTask>& task) {
  {
    std::lock_guard lock(mutex_);
    if (!accepting_ || queue_.size() >= capacity_ || workers_.empty()) return false;
    queue_.push_back(std::move(task));
  }
  ready_.notify_one();
  return true;
}

std::size_t VerificationPool::queued() const {
  std::lock_guard lock(mutex_);
  return queue_.size();
}

void VerificationPool::work(std::stop_token stop) {
  for (;;) {
    std::unique_ptr<VerificationTask> task;
    {
      std::unique_lock lock(mutex_);
      // Returns false only when a stop was requested and nothing is queued.
      if (!ready_.wait(lock, stop, [&] { return !queue_.empty(); })) return;
      task = std::move(queue_.front());
      queue_.pop_front();
      ++running_;
    }
    try {
      task->run();
    } catch (...) {
      if (on_task_error_) on_task_error_();
    }
    task.reset();  // the per-message state goes before the task counts as finished
    std::lock_guard lock(mutex_);
    --running_;
  }
}

std::size_t VerificationPool::stop(std::chrono::milliseconds drain,
                                   const std::function<void()>& before_join) {
  {
    std::lock_guard lock(mutex_);
    if (stopped_) return 0;
    stopped_ = true;
    accepting_ = false;
  }
  const auto deadline = std::chrono::steady_clock::now() + drain;
  while (std::chrono::steady_clock::now() < deadline) {
    {
      std::lock_guard lock(mutex_);
      if (queue_.empty() && running_ == 0) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::deque<std::unique_ptr<VerificationTask>> left;
  {
    std::lock_guard lock(mutex_);
    left.swap(queue_);
  }
  if (before_join) before_join();
  for (auto& worker : workers_) worker.request_stop();
  for (auto& worker : workers_) {
    if (worker.joinable()) worker.join();
  }
  return left.size();
}

}  // namespace mailsec::core::auth
