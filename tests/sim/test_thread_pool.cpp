// ThreadPool: static deterministic chunks, every item exactly once, exceptions reach the caller.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <fstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "parallax/sim/thread_pool.hpp"

using parallax::sim::ThreadPool;

TEST_CASE("ThreadPool: each item once in the documented static chunks", "[thread_pool]") {
  for (int threads : {1, 2, 3, 4, 7}) {
    ThreadPool pool(threads);
    CHECK(pool.threads() == threads);
    for (int n : {0, 1, 2, 5, 64, 1000}) {
      INFO("threads " << threads << ", n " << n);
      std::vector<int> owner(static_cast<std::size_t>(n), -1);
      std::vector<int> hits(static_cast<std::size_t>(n), 0);
      std::atomic<int> calls{0};
      pool.parallel_for(n, [&](int b, int e, int w) {
        ++calls;
        for (int i = b; i < e; ++i) owner[i] = w, ++hits[i];
      });
      int expected_calls = 0;
      for (int w = 0; w < threads; ++w) {
        int b = static_cast<int>(static_cast<long>(n) * w / threads);
        int e = static_cast<int>(static_cast<long>(n) * (w + 1) / threads);
        if (b < e) ++expected_calls;
        for (int i = b; i < e; ++i) REQUIRE(owner[i] == w);
      }
      for (int h : hits) REQUIRE(h == 1);
      CHECK(calls == expected_calls);
    }
  }
}

TEST_CASE("ThreadPool: one thread runs inline on the caller", "[thread_pool]") {
  ThreadPool pool(1);
  std::thread::id seen;
  pool.parallel_for(3, [&](int, int, int) { seen = std::this_thread::get_id(); });
  CHECK(seen == std::this_thread::get_id());
}

TEST_CASE("ThreadPool: work really runs on several threads", "[thread_pool]") {
  ThreadPool pool(3);
  std::vector<std::thread::id> ids(3);
  pool.parallel_for(3, [&](int b, int, int w) {
    ids[w] = std::this_thread::get_id();
    (void)b;
  });
  CHECK(ids[0] == std::this_thread::get_id());
  CHECK(ids[1] != ids[0]);
  CHECK(ids[2] != ids[0]);
  CHECK(ids[1] != ids[2]);
}

TEST_CASE("ThreadPool: an exception in a worker reaches the caller and the pool stays usable",
          "[thread_pool]") {
  ThreadPool pool(2);
  CHECK_THROWS_WITH(pool.parallel_for(10,
                                      [](int b, int, int) {
                                        if (b >= 5) throw std::runtime_error("boom in worker");
                                      }),
                    "boom in worker");
  std::atomic<int> sum{0};
  for (int rep = 0; rep < 1000; ++rep)
    pool.parallel_for(4, [&](int b, int e, int) { sum += e - b; });
  CHECK(sum == 4000);
}

TEST_CASE("ThreadPool: more than kMaxThreads is refused", "[thread_pool][bad-input]") {
  CHECK_THROWS_AS(ThreadPool(parallax::sim::kMaxThreads + 1), std::invalid_argument);
  CHECK(parallax::sim::resolve_threads(0) <= parallax::sim::kMaxThreads);
}

// In a child process whose address space is nearly full, so that starting threads fails part
// way: the constructor must throw, with every started thread joined (it used to hang in
// pthread_cond_destroy or terminate on a joinable std::thread).
TEST_CASE("ThreadPool: a thread that cannot start gives an exception and no hang",
          "[thread_pool][bad-input]") {
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::alarm(20);  // a hang ends as SIGALRM
    long vm_kib = 0;
    std::ifstream status("/proc/self/status");
    for (std::string line; std::getline(status, line);)
      if (line.rfind("VmSize:", 0) == 0) vm_kib = std::stol(line.substr(7));
    // Room for a few 8 MiB thread stacks, not for 255.
    rlimit rl{};
    rl.rlim_cur = rl.rlim_max = static_cast<rlim_t>(vm_kib + 48 * 1024) * 1024;
    if (::setrlimit(RLIMIT_AS, &rl) != 0) ::_exit(3);
    try {
      ThreadPool pool(parallax::sim::kMaxThreads);
      ::_exit(2);  // all threads started: the limit did not bite
    } catch (const std::runtime_error& e) {
      const std::string what = e.what();
      ::_exit(what.find("cannot start 256 threads") != std::string::npos ? 0 : 4);
    } catch (...) {
      ::_exit(5);
    }
  }
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  INFO("child status " << status);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}
