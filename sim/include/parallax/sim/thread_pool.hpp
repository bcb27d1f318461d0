// A fixed pool of worker threads with static, deterministic chunking.
//
// `parallel_for(n, fn)` splits [0, n) into `threads()` contiguous chunks, chunk w being
// [n * w / T, n * (w + 1) / T), and calls fn(begin, end, w) once per non-empty chunk. The calling
// thread runs chunk 0 itself; the other chunks run on the pool's threads. Which items a worker
// gets depends only on n and T, never on timing, so per-worker scratch buffers indexed by `w` are
// safe. Nothing is allocated per call. With threads == 1 everything runs inline on the caller.
// Reference: docs/sim.md.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace parallax::sim {

// Most threads a pool may have (the caller included): beyond it threads only cost memory (8 MiB
// of stack each) and start-up time; thread-count flags accept [0, kMaxThreads].
inline constexpr int kMaxThreads = 256;

// The one rule for thread-count flags: n > 0 is n threads, 0 means every hardware core (at most
// kMaxThreads).
int resolve_threads(int n);

class ThreadPool {
 public:
  // Work callback: items [begin, end) on worker `worker` in [0, threads()).
  using Task = std::function<void(int begin, int end, int worker)>;

  // `threads` in [1, kMaxThreads] workers in total, including the calling thread. Throws
  // std::invalid_argument above kMaxThreads, std::runtime_error (with every thread it started
  // joined again) when the system refuses to start one.
  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int threads() const { return threads_; }

  // Runs fn over [0, n) in threads() static chunks and returns when all are done. The first
  // exception thrown by any chunk is rethrown here (the other chunks still finish). Not
  // reentrant: do not call parallel_for from inside fn, nor from two threads at once.
  void parallel_for(int n, const Task& fn);

 private:
  void worker_loop(int worker);
  void run_chunk(int worker);
  void stop_and_join();

  int threads_ = 1;
  std::vector<std::thread> pool_;  // threads_ - 1 threads; worker w runs chunk w (w >= 1)

  std::mutex mu_;
  std::condition_variable start_cv_;
  std::condition_variable done_cv_;
  std::uint64_t generation_ = 0;  // bumped per parallel_for; workers wait for a new value
  int pending_ = 0;               // pool chunks not finished in this generation
  bool stop_ = false;
  const Task* task_ = nullptr;  // valid during one parallel_for
  int n_ = 0;
  std::exception_ptr error_;
};

}  // namespace parallax::sim
