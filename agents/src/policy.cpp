// Policies for data collection: random, scripted experts per scene, noisy experts, the expert
// chasing decoy goals, and the same at up to the actuators' full speed (rush).
#include "parallax/agents/policy.hpp"

#include "scripted_experts.hpp"

#include <algorithm>
#include <array>
#include <cassert>
#include <cmath>
#include <functional>
#include <optional>
#include <random>
#include <stdexcept>

namespace parallax::agents {
namespace {

using detail::Controller;
using detail::EnvState;
using detail::find_expert;

// splitmix64: turns (policy seed, episode seed) into well-spread RNG seeds.
std::uint64_t mix(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

float clamp1(double v) {
  return static_cast<float>(std::clamp(v, -1.0, 1.0));
}

void check_input(const PolicyInput& in, std::span<float> actions, int num_envs, int action_size) {
  assert(in.num_envs == num_envs && "Policy::act: num_envs differs from make_policy's");
  assert(in.action_size == action_size && "Policy::act: action_size differs from the scene's");
  assert(actions.size() == static_cast<std::size_t>(num_envs * action_size) &&
         "Policy::act: actions must be [N, A]");
  (void)in;
  (void)actions;
  (void)num_envs;
  (void)action_size;
}

// ---- random ---------------------------------------------------------------------------------

// Uniform in [-1, 1]^A every step, one RNG stream per env (what action_space.sample() does).
class RandomPolicy final : public Policy {
 public:
  RandomPolicy(int num_envs, int action_size, std::uint64_t seed)
      : n_(num_envs), a_(action_size), seed_(seed), rng_(num_envs) {
    for (int i = 0; i < n_; ++i) reset(i, static_cast<std::uint64_t>(i));
  }
  void reset(int env, std::uint64_t seed) override {
    assert(env >= 0 && env < n_ && "Policy::reset: env out of range");
    rng_[env].seed(mix(seed_ ^ mix(seed)));
  }
  void act(const PolicyInput& in, std::span<float> actions) override {
    check_input(in, actions, n_, a_);
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    for (int i = 0; i < n_; ++i)
      for (int k = 0; k < a_; ++k) actions[i * a_ + k] = u(rng_[i]);
  }

 private:
  int n_, a_;
  std::uint64_t seed_;
  std::vector<std::mt19937_64> rng_;
};

// The x, y box where a scene puts things: the union of its bodies' and markers' randomised
// positions (and their nominal positions), [xlo, xhi, ylo, yhi].
std::array<double, 4> workspace(const sim::SceneModel& s) {
  std::array<double, 4> b{1e9, -1e9, 1e9, -1e9};
  auto add = [&](const sim::Vec3& p) {
    b[0] = std::min(b[0], p[0]), b[1] = std::max(b[1], p[0]);
    b[2] = std::min(b[2], p[1]), b[3] = std::max(b[3], p[1]);
  };
  for (const auto& body : s.bodies) {
    if (body.shape == sim::Shape::kPlane) continue;
    add(body.position);
    if (body.randomize.position)
      add(body.randomize.position->low), add(body.randomize.position->high);
  }
  for (const auto& m : s.markers) {
    add(m.position);
    if (m.randomize_position) add(m.randomize_position->low), add(m.randomize_position->high);
  }
  return b;
}

struct ActionGain {  // the expert's action gain is drawn uniformly in [lo, hi]
  double lo = 1.0, hi = 1.0;
};

// Expert, optionally with Ornstein-Uhlenbeck noise (correlation ~0.3 s at 30 Hz) added. With
// decoys, the expert sees every marker (the goal) at a random place of the scene's workspace,
// a new one every `kDecoyPeriod` ticks: it pushes the cube toward places that are not the goal.
// With a gain range [lo, hi] (lo >= 1), the expert's action is multiplied by a gain drawn
// uniformly in it for each decoy period (each episode without decoys), before the noise and the
// clamp to [-1, 1]: the same moves at up to the actuators' full speed.
class ExpertPolicy final : public Policy {
 public:
  static constexpr int kDecoyPeriod = 45;  // ticks (1.5 s at 30 Hz)
  ExpertPolicy(std::shared_ptr<const sim::SceneModel> scene, Controller c, int num_envs,
               std::uint64_t seed, double noise_sigma, bool decoys = false, ActionGain gain = {})
      : scene_(std::move(scene)),
        ctl_(std::move(c)),
        n_(num_envs),
        a_(scene_->action_size()),
        k_(static_cast<int>(scene_->bodies.size())),
        m_(static_cast<int>(scene_->markers.size())),
        j_(static_cast<int>(scene_->joints.size())),
        seed_(seed),
        sigma_(noise_sigma),
        rng_(num_envs),
        noise_(static_cast<std::size_t>(num_envs * a_), 0.0),
        decoys_(decoys),
        box_(workspace(*scene_)),
        decoy_(decoys ? static_cast<std::size_t>(num_envs * m_ * 3) : 0, 0.0f),
        decoy_ticks_(num_envs, 0),
        gain_range_(gain),
        gain_(num_envs, 1.0) {
    for (int i = 0; i < n_; ++i) reset(i, static_cast<std::uint64_t>(i));
  }
  void reset(int env, std::uint64_t seed) override {
    assert(env >= 0 && env < n_ && "Policy::reset: env out of range");
    rng_[env].seed(mix(seed_ ^ mix(seed ^ 0x5EEDull)));
    std::normal_distribution<double> g(0.0, sigma_);
    for (int k = 0; k < a_; ++k) noise_[env * a_ + k] = sigma_ > 0 ? g(rng_[env]) : 0.0;
    decoy_ticks_[env] = 0;
    draw_gain(env);
  }
  void act(const PolicyInput& in, std::span<float> actions) override {
    check_input(in, actions, n_, a_);
    assert(in.poses.size() == static_cast<std::size_t>(n_ * k_ * 7) && "poses must be [N,K,7]");
    assert(in.markers.size() == static_cast<std::size_t>(n_ * m_ * 3) && "markers must be [N,M,3]");
    if (ctl_.needs_velocities && in.velocities.empty())
      throw std::invalid_argument("policy expert for scene \"" + scene_->name +
                                  "\": PolicyInput::velocities [N, K, 6] is empty (needed)");
    if (ctl_.needs_joints && in.joint_states.empty())
      throw std::invalid_argument("policy expert for scene \"" + scene_->name +
                                  "\": PolicyInput::joint_states [N, J, 2] is empty (needed)");
    assert(
        (in.velocities.empty() || in.velocities.size() == static_cast<std::size_t>(n_ * k_ * 6)) &&
        "velocities must be empty or [N,K,6]");
    assert((in.joint_states.empty() ||
            in.joint_states.size() == static_cast<std::size_t>(n_ * j_ * 2)) &&
           "joint_states must be empty or [N,J,2]");
    constexpr double theta = 0.9;  // per-step noise persistence
    const double innov = std::sqrt(1.0 - theta * theta);
    for (int i = 0; i < n_; ++i) {
      float* a = actions.data() + i * a_;
      const float* markers = in.markers.data() + i * m_ * 3;
      if (decoys_) {
        float* d = decoy_.data() + static_cast<std::size_t>(i) * m_ * 3;
        if (decoy_ticks_[i]++ % kDecoyPeriod == 0) {
          std::uniform_real_distribution<double> ux(box_[0], box_[1]), uy(box_[2], box_[3]);
          for (int m = 0; m < m_; ++m) {
            d[m * 3] = static_cast<float>(ux(rng_[i]));
            d[m * 3 + 1] = static_cast<float>(uy(rng_[i]));
            d[m * 3 + 2] = markers[m * 3 + 2];
          }
          if (decoy_ticks_[i] > 1) draw_gain(i);  // the first period's gain comes from reset()
        }
        markers = d;
      }
      const EnvState st{in.poses.data() + i * k_ * 7, markers,
                        in.velocities.empty() ? nullptr : in.velocities.data() + i * k_ * 6,
                        in.joint_states.empty() ? nullptr : in.joint_states.data() + i * j_ * 2};
      ctl_.fn(st, a);
      if (gain_[i] != 1.0)
        for (int k = 0; k < a_; ++k) a[k] = clamp1(a[k] * gain_[i]);
      if (sigma_ <= 0) continue;
      std::normal_distribution<double> g(0.0, sigma_);
      for (int k = 0; k < a_; ++k) {
        double& z = noise_[i * a_ + k];
        z = theta * z + innov * g(rng_[i]);
        a[k] = clamp1(a[k] + z);
      }
    }
  }

 private:
  std::shared_ptr<const sim::SceneModel> scene_;
  Controller ctl_;
  int n_, a_, k_, m_, j_;
  std::uint64_t seed_;
  double sigma_;
  std::vector<std::mt19937_64> rng_;
  std::vector<double> noise_;  // [N, A] current OU noise
  bool decoys_;
  std::array<double, 4> box_;     // workspace x, y box (decoys are drawn in it)
  std::vector<float> decoy_;      // [N, M, 3] the markers the expert is shown (decoys)
  std::vector<int> decoy_ticks_;  // [N] ticks since the episode started
  ActionGain gain_range_;
  std::vector<double> gain_;  // [N] the current action gain

  void draw_gain(int env) {
    if (gain_range_.hi <= gain_range_.lo) {
      gain_[env] = gain_range_.lo;
      return;
    }
    std::uniform_real_distribution<double> u(gain_range_.lo, gain_range_.hi);
    gain_[env] = u(rng_[env]);
  }
};

}  // namespace

std::vector<std::string> policy_kinds(const sim::SceneModel& scene) {
  if (find_expert(scene)) return {"random", "expert", "noisy"};
  return {"random"};
}

std::vector<std::string> all_policy_kinds(const sim::SceneModel& scene) {
  auto kinds = policy_kinds(scene);
  if (kinds.size() > 1 && !scene.markers.empty()) {
    kinds.push_back("decoy");
    kinds.push_back("rush");
  }
  return kinds;
}

std::unique_ptr<Policy> make_policy(const std::string& kind,
                                    std::shared_ptr<const sim::SceneModel> scene, int num_envs,
                                    std::uint64_t seed) {
  assert(scene && "make_policy: scene is null");
  assert(num_envs >= 1 && "make_policy: num_envs must be >= 1");
  if (kind == "random") return std::make_unique<RandomPolicy>(num_envs, scene->action_size(), seed);
  const bool decoys = kind == "decoy" || kind == "rush";
  if (kind != "expert" && kind != "noisy" && !decoys)
    throw std::invalid_argument("policy \"" + kind +
                                "\": unknown (expected random, expert, noisy, decoy or rush)");
  auto c = find_expert(*scene);
  if (!c)
    throw std::invalid_argument("policy \"" + kind + "\": scene \"" + scene->name +
                                "\" has no scripted expert (available: random)");
  if (decoys && scene->markers.empty())
    throw std::invalid_argument("policy \"" + kind + "\": scene \"" + scene->name +
                                "\" has no markers to move (available: random, expert, noisy)");
  // noise std, in action units: noisy 0.35; decoy and rush 0.2 (their pushes should mostly land)
  const double sigma = kind == "noisy" ? 0.35 : decoys ? 0.2 : 0.0;
  // rush: the push expert moves at 0.3 m/s while pushing (0.45 around the cube), 0.6 of the
  // actuator's 0.5 m/s per axis; gains 1.5-3 push at 0.45 m/s up to the clamp (0.71 m/s on a
  // diagonal), the speeds a planner's unbounded plans choose (assets/models/push.md, round 12).
  const ActionGain gain = kind == "rush" ? ActionGain{1.5, 3.0} : ActionGain{};
  return std::make_unique<ExpertPolicy>(std::move(scene), std::move(*c), num_envs, seed, sigma,
                                        decoys, gain);
}

void act_on_world(Policy& policy, const sim::World& world, std::span<float> action,
                  std::span<const std::uint8_t> frame, int height, int width) {
  const auto& scene = world.scene();
  const std::size_t nb = scene.bodies.size();
  std::vector<float> pose(nb * 7), mk(scene.markers.size() * 3), vel(nb * 6),
      js(scene.joints.size() * 2);
  world.poses(pose), world.marker_positions(mk), world.velocities(vel), world.joint_states(js);
  policy.act({.num_envs = 1,
              .action_size = static_cast<int>(action.size()),
              .poses = pose,
              .markers = mk,
              .velocities = vel,
              .joint_states = js,
              .frames = frame,
              .height = height,
              .width = width},
             action);
}

}  // namespace parallax::agents
