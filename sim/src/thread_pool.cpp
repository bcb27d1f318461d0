// ThreadPool: one condition variable wakes all workers per call; each runs its fixed chunk.
#include "parallax/sim/thread_pool.hpp"

#include <algorithm>
#include <cassert>

namespace parallax::sim {

int resolve_threads(int n) {
  return n > 0 ? n : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
}

ThreadPool::ThreadPool(int threads) : threads_(threads) {
  assert(threads >= 1 && "ThreadPool needs at least one thread (the caller)");
  if (threads_ < 1) threads_ = 1;
  pool_.reserve(static_cast<std::size_t>(threads_ - 1));
  for (int w = 1; w < threads_; ++w) pool_.emplace_back([this, w] { worker_loop(w); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  start_cv_.notify_all();
  for (auto& t : pool_) t.join();
}

void ThreadPool::run_chunk(int worker) {
  // Static chunk of worker w: [n w / T, n (w + 1) / T), computed in 64 bits.
  const std::int64_t n = n_, t = threads_;
  const int begin = static_cast<int>(n * worker / t);
  const int end = static_cast<int>(n * (worker + 1) / t);
  if (begin >= end) return;
  try {
    (*task_)(begin, end, worker);
  } catch (...) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!error_) error_ = std::current_exception();
  }
}

void ThreadPool::worker_loop(int worker) {
  std::uint64_t seen = 0;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      start_cv_.wait(lock, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
    }
    run_chunk(worker);
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (--pending_ == 0) done_cv_.notify_one();
    }
  }
}

void ThreadPool::parallel_for(int n, const Task& fn) {
  assert(n >= 0 && "parallel_for: n must be >= 0");
  if (n <= 0) return;
  if (threads_ == 1) {
    fn(0, n, 0);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    assert(task_ == nullptr && "ThreadPool::parallel_for is not reentrant");
    task_ = &fn;
    n_ = n;
    error_ = nullptr;
    pending_ = threads_ - 1;
    ++generation_;
  }
  start_cv_.notify_all();
  run_chunk(0);
  std::exception_ptr error;
  {
    std::unique_lock<std::mutex> lock(mu_);
    done_cv_.wait(lock, [&] { return pending_ == 0; });
    task_ = nullptr;
    error = error_;
    error_ = nullptr;
  }
  if (error) std::rethrow_exception(error);
}

}  // namespace parallax::sim
