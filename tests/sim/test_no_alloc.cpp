// WorldBatch::step allocates nothing (C++ heap) in steady state, autoresets included.
// This file replaces the global operator new for the whole test executable with a counting one.
#include <atomic>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <new>

#include "parallax/sim/world_batch.hpp"
#include "sim_test_util.hpp"

namespace {
std::atomic<long> g_allocations{0};
}

// GCC 12 at -O2 sees the library's inlined `new` paired with our `free` and warns
// (-Wmismatched-new-delete); both sides are this file's replacements, so the pairing is right.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

// Every unaligned form is replaced, so that each allocation is paired with its own
// deallocation even under ASan (which checks new/free mismatches).
void* operator new(std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) {
  return ::operator new(n);
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(n ? n : 1);
}
void* operator new[](std::size_t n, const std::nothrow_t& t) noexcept {
  return ::operator new(n, t);
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete[](void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete(void* p, const std::nothrow_t&) noexcept {
  std::free(p);
}
void operator delete[](void* p, const std::nothrow_t&) noexcept {
  std::free(p);
}

using namespace parallax::sim;
using namespace parallax::sim::test;

TEST_CASE("WorldBatch::step allocates nothing in steady state", "[batch][alloc]") {
  for (const char* name : {"push", "billiards", "tower", "cartpole", "reacher"}) {
    INFO(name);
    auto scene = shipped(name);
    WorldBatch batch(scene, 8, 0, 2);
    std::mt19937_64 rng(1);
    std::vector<float> act(static_cast<std::size_t>(8 * batch.action_size()));
    std::vector<std::vector<float>> actions(400, act);
    for (auto& a : actions) random_actions(rng, a);
    for (int t = 0; t < 200; ++t) batch.step(actions[t]);  // warm-up: first autoresets
    long before = g_allocations.load();
    int resets = 0;
    for (int t = 200; t < 400; ++t) {
      batch.step(actions[t]);
      for (auto r : batch.reset_mask()) resets += r;
    }
    long during = g_allocations.load() - before;
    CHECK(during == 0);
    CHECK(resets > 0);  // autoresets happened inside the measured window
  }
}
