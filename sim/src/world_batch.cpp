// WorldBatch: each worker steps a fixed, contiguous range of envs and writes their outputs.
#include "parallax/sim/world_batch.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <string>

namespace parallax::sim {

namespace {

std::string gib(double bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f GiB", bytes / (1024.0 * 1024 * 1024));
  return buf;
}

// Memory the process can have: physical memory (sysconf), lowered by what an address-space
// limit (ulimit -v) leaves when one is set. Physical memory in total, not free memory: page cache
// is given back on demand, and a batch that needs more than the machine has can never run.
double memory_limit_bytes(std::string& what) {
  const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGESIZE);
  double limit = pages > 0 && page > 0 ? static_cast<double>(pages) * page : 0;
  what = "physical memory";
  rlimit rl{};
  if (::getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
    long size_pages = 0;  // address space in use now
    if (std::FILE* f = std::fopen("/proc/self/statm", "r")) {
      if (std::fscanf(f, "%ld", &size_pages) != 1) size_pages = 0;
      std::fclose(f);
    }
    const double left =
        std::max(0.0, static_cast<double>(rl.rlim_cur) - static_cast<double>(size_pages) * page);
    if (limit == 0 || left < limit) {
      limit = left;
      what = "address space left under ulimit -v";
    }
  }
  return limit;
}

// Refuses, before anything is allocated, a batch that cannot fit: Bullet does not check its pool
// allocations, so running out of memory while building worlds is a crash, not an exception.
int checked_num_envs(const SceneModel& scene, int num_envs) {
  if (num_envs < 1) throw std::invalid_argument("WorldBatch: num_envs must be >= 1");
  const double need =
      static_cast<double>(num_envs) * static_cast<double>(WorldBatch::estimated_env_bytes(scene));
  std::string what;
  const double have = memory_limit_bytes(what);
  if (need > have && (have > 0 || what != "physical memory")) {
    throw std::length_error(
        "cannot build " + std::to_string(num_envs) + " envs of scene " + scene.name +
        ": they need about " + gib(need) + " (" +
        std::to_string(WorldBatch::estimated_env_bytes(scene) >> 10) +
        " KiB per env), more than the " + gib(have) + " of " + what + "; use at most " +
        std::to_string(static_cast<long long>(have / WorldBatch::estimated_env_bytes(scene))) +
        " envs");
  }
  return num_envs;
}

}  // namespace

std::size_t WorldBatch::estimated_env_bytes(const SceneModel& scene) {
  // Heap in use per env, measured for the shipped scenes (tests/sim/test_world_batch.cpp):
  // 4317 KiB (push) to 4326 KiB (billiards). Bullet's default collision configuration
  // preallocates 4096 contact manifolds and 4096 collision algorithms per world; bodies, shapes
  // and joints add little. Rounded up so that the estimate stays an upper bound.
  constexpr std::size_t kWorld = 4608u << 10, kPerBody = 8u << 10, kPerJoint = 2u << 10;
  return kWorld + kPerBody * (scene.bodies.size() + scene.markers.size()) +
         kPerJoint * scene.joints.size();
}

WorldBatch::WorldBatch(std::shared_ptr<const SceneModel> scene, int num_envs, std::uint64_t seed,
                       int threads)
    : scene_(std::move(scene)),
      num_envs_(checked_num_envs(*scene_, num_envs)),
      num_bodies_(static_cast<int>(scene_->bodies.size())),
      num_markers_(static_cast<int>(scene_->markers.size())),
      num_joints_(static_cast<int>(scene_->joints.size())),
      action_size_(scene_->action_size()),
      seed_(seed),
      pool_(threads) {
  if (threads < 1) throw std::invalid_argument("WorldBatch: threads must be >= 1");
  worlds_.reserve(static_cast<std::size_t>(num_envs));
  for (int i = 0; i < num_envs; ++i)
    worlds_.emplace_back(scene_, seed + static_cast<std::uint64_t>(i));
  const auto N = static_cast<std::size_t>(num_envs);
  poses_.assign(N * num_bodies_ * 7, 0.0f);
  velocities_.assign(N * num_bodies_ * 6, 0.0f);
  markers_.assign(N * num_markers_ * 3, 0.0f);
  joints_.assign(N * num_joints_ * 2, 0.0f);
  colors_.assign(N * num_bodies_ * 3, 0.0f);
  scales_.assign(N * num_bodies_, 1.0f);
  rewards_.assign(N, 0.0f);
  terminated_.assign(N, 0);
  truncated_.assign(N, 0);
  reset_mask_.assign(N, 0);
  done_.assign(N, 0);
  episode_.assign(N, 0);
  episode_seeds_.assign(N, 0);
  task_ = [this](int begin, int end, int /*worker*/) { run(begin, end); };
  reset();
}

WorldBatch::~WorldBatch() = default;

World& WorldBatch::world(int i) {
  assert(i >= 0 && i < num_envs_ && "WorldBatch::world: env index out of range");
  return worlds_[static_cast<std::size_t>(i)];
}
const World& WorldBatch::world(int i) const {
  assert(i >= 0 && i < num_envs_ && "WorldBatch::world: env index out of range");
  return worlds_[static_cast<std::size_t>(i)];
}

void WorldBatch::write_outputs(int i) {
  const std::size_t K = static_cast<std::size_t>(num_bodies_);
  const std::size_t M = static_cast<std::size_t>(num_markers_);
  const World& w = worlds_[static_cast<std::size_t>(i)];
  w.poses(std::span<float>(poses_).subspan(i * K * 7, K * 7));
  w.velocities(std::span<float>(velocities_).subspan(i * K * 6, K * 6));
  w.marker_positions(std::span<float>(markers_).subspan(i * M * 3, M * 3));
  const std::size_t J = static_cast<std::size_t>(num_joints_);
  w.joint_states(std::span<float>(joints_).subspan(i * J * 2, J * 2));
}

void WorldBatch::reset() {
  actions_ = nullptr;
  for (int i = 0; i < num_envs_; ++i) {
    episode_[i] = 0;
    done_[i] = 1;  // run() resets envs marked done
  }
  pool_.parallel_for(num_envs_, task_);
  std::fill(reset_mask_.begin(), reset_mask_.end(), 0);
}

void WorldBatch::run(int begin, int end) {
  const std::size_t A = static_cast<std::size_t>(action_size_);
  for (int i = begin; i < end; ++i) {
    World& w = worlds_[static_cast<std::size_t>(i)];
    if (done_[i]) {
      // Episode k of env i: seed + i + k N.
      episode_seeds_[i] = seed_ + static_cast<std::uint64_t>(i) +
                          episode_[i] * static_cast<std::uint64_t>(num_envs_);
      w.reset(episode_seeds_[i]);
      ++episode_[i];
      rewards_[i] = 0;
      terminated_[i] = truncated_[i] = 0;
      reset_mask_[i] = 1;
      done_[i] = 0;
      const std::size_t K = static_cast<std::size_t>(num_bodies_);
      w.body_colors(std::span<float>(colors_).subspan(i * K * 3, K * 3));
      w.body_size_scales(std::span<float>(scales_).subspan(i * K, K));
    } else {
      StepResult r = w.step(std::span<const float>(actions_ + i * A, A));
      rewards_[i] = r.reward;
      terminated_[i] = r.terminated;
      truncated_[i] = r.truncated;
      reset_mask_[i] = 0;
      done_[i] = r.terminated || r.truncated;
    }
    write_outputs(i);
  }
}

void WorldBatch::step(std::span<const float> actions) {
  const std::size_t A = static_cast<std::size_t>(action_size_);
  if (actions.size() != static_cast<std::size_t>(num_envs_) * A) {
    throw std::invalid_argument("WorldBatch::step: actions has " + std::to_string(actions.size()) +
                                " values; expected [N, A] = [" + std::to_string(num_envs_) + ", " +
                                std::to_string(A) + "]");
  }
  for (std::size_t k = 0; k < actions.size(); ++k) {
    if (!std::isfinite(actions[k])) {
      throw std::invalid_argument("WorldBatch::step: actions[" + std::to_string(k / A) + ", " +
                                  std::to_string(k % A) + "] = " + std::to_string(actions[k]) +
                                  ": expected a finite number in [-1, 1]");
    }
  }
  actions_ = actions.data();
  pool_.parallel_for(num_envs_, task_);
  actions_ = nullptr;
}

}  // namespace parallax::sim
