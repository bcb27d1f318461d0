// ThreadPool: one condition variable wakes all workers per call; each runs its fixed chunk.
#include "parallax/sim/thread_pool.hpp"

#include <algorithm>
#include <cassert>
#include <stdexcept>
#include <string>
#include <system_error>

namespace parallax::sim {

int resolve_threads(int n) {
  const int cores = static_cast<int>(std::thread::hardware_concurrency());
  return n > 0 ? n : std::clamp(cores, 1, kMaxThreads);
}

ThreadPool::ThreadPool(int threads) : threads_(threads) {
  assert(threads >= 1 && "ThreadPool needs at least one thread (the caller)");
  if (threads_ < 1) threads_ = 1;
  if (threads_ > kMaxThreads) {
    throw std::invalid_argument("cannot use " + std::to_string(threads_) +
                                " threads: expected at most " + std::to_string(kMaxThreads));
  }
  pool_.reserve(static_cast<std::size_t>(threads_ - 1));
  // Starting a thread can fail (address space or process limits). A constructor that throws
  // runs no destructor, so the threads already started must be stopped and joined here: left
  // waiting on start_cv_ they would block its destruction, and a joinable std::thread
  // terminates the process when destroyed.
  try {
    for (int w = 1; w < threads_; ++w) pool_.emplace_back([this, w] { worker_loop(w); });
  } catch (const std::system_error& e) {
    const std::size_t started = pool_.size();
    stop_and_join();
    throw std::runtime_error("cannot start " + std::to_string(threads_) +
                             " threads: the system refused after " + std::to_string(started + 1) +
                             " (" + e.what() + "); use fewer threads");
  }
}

void ThreadPool::stop_and_join() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  start_cv_.notify_all();
  for (auto& t : pool_) t.join();
  pool_.clear();
}

ThreadPool::~ThreadPool() {
  stop_and_join();
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
