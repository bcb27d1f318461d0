// Policies for data collection: random, scripted experts per scene, and noisy experts.
#include "parallax/agents/policy.hpp"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <functional>
#include <optional>
#include <random>
#include <stdexcept>

namespace parallax::agents {
namespace {

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

// ---- scripted experts -------------------------------------------------------------------------

// One env's controller: state in, action [A] out. Built per scene from its body names.
using Controller = std::function<void(const float* poses /* [K, 7] */,
                                      const float* markers /* [M, 3] */, float* action /* [A] */)>;

// push: the pusher goes around the cube to the point behind it (on the goal-cube line), then
// pushes it toward the goal, slowing down as the cube nears the goal.
std::optional<Controller> push_expert(const sim::SceneModel& s) {
  const int pusher = s.body_index("pusher"), cube = s.body_index("cube");
  const int goal = s.marker_index("goal");
  if (pusher < 0 || cube < 0 || goal < 0 || s.actuators.size() != 1 ||
      s.actuators[0].type != sim::ActuatorType::kPlanarVelocity || s.actuators[0].body != "pusher")
    return std::nullopt;
  const double max_speed = s.actuators[0].max_speed;  // m/s at action 1
  const auto& cb = s.bodies[static_cast<std::size_t>(cube)];
  const auto& pb = s.bodies[static_cast<std::size_t>(pusher)];
  // Contact distance between centres when pushing a face: cube half width + pusher radius.
  const double contact = std::max(cb.half_extents[0], cb.half_extents[1]) + pb.radius;
  const double clear = contact * 1.45;  // lateral clearance when going around, metres
  return Controller([=](const float* poses, const float* markers, float* action) {
    const double px = poses[pusher * 7 + 0], py = poses[pusher * 7 + 1];
    const double cx = poses[cube * 7 + 0], cy = poses[cube * 7 + 1];
    const double gx = markers[goal * 3 + 0], gy = markers[goal * 3 + 1];
    double dx = gx - cx, dy = gy - cy;
    const double dist = std::hypot(dx, dy);  // cube to goal, metres
    if (dist < 1e-6) {
      action[0] = action[1] = 0.0f;
      return;
    }
    dx /= dist;
    dy /= dist;
    // Pusher relative to the cube: `along` the push direction, `perp` across it.
    const double rx = px - cx, ry = py - cy;
    const double along = rx * dx + ry * dy;
    const double qx = rx - along * dx, qy = ry - along * dy;  // perpendicular offset vector
    const double perp = std::hypot(qx, qy);
    double tx, ty, speed;  // target point (m) and top speed (m/s)
    if (along < -0.8 * contact && perp < 0.25 * contact) {
      // Behind the cube and lined up: push through it toward the goal.
      tx = cx + dx * 0.1;
      ty = cy + dy * 0.1;
      speed = std::clamp(1.5 * dist, 0.06, 0.3);
    } else if (along < -0.8 * contact) {
      // Behind but off the line: slide onto the line behind the cube.
      tx = cx - dx * (contact + 0.01);
      ty = cy - dy * (contact + 0.01);
      speed = 0.4;
    } else {
      // Beside or in front: step out sideways to clear the cube, then go behind it.
      double nx = -dy, ny = dx;  // left of the push direction
      if (qx * nx + qy * ny < 0) nx = -nx, ny = -ny;
      if (perp < clear) {
        tx = cx + nx * clear * 1.1 + dx * along;
        ty = cy + ny * clear * 1.1 + dy * along;
      } else {
        tx = cx + nx * clear - dx * (contact + 0.02);
        ty = cy + ny * clear - dy * (contact + 0.02);
      }
      speed = 0.45;
    }
    // Proportional approach to the target, capped at `speed`.
    double vx = (tx - px) * 8.0, vy = (ty - py) * 8.0;
    const double v = std::hypot(vx, vy);
    if (v > speed) vx *= speed / v, vy *= speed / v;
    action[0] = clamp1(vx / max_speed);
    action[1] = clamp1(vy / max_speed);
  });
}

// tower: the paddle lines up behind the tower (on the side it starts) and sweeps through it
// at the height of the lower blocks, then rests once the top block is down.
std::optional<Controller> tower_expert(const sim::SceneModel& s) {
  const int paddle = s.body_index("paddle"), top = s.body_index("block4"),
            base = s.body_index("block1");
  if (paddle < 0 || top < 0 || base < 0 || s.actuators.size() != 1 ||
      s.actuators[0].type != sim::ActuatorType::kPlanarVelocity || s.actuators[0].body != "paddle")
    return std::nullopt;
  const double max_speed = s.actuators[0].max_speed;  // m/s at action 1
  const double down_z = s.bodies[static_cast<std::size_t>(base)].position[2] * 2.0;  // metres
  return Controller([=](const float* poses, const float*, float* action) {
    const double px = poses[paddle * 7 + 0], py = poses[paddle * 7 + 1];
    const double bx = poses[base * 7 + 0], by = poses[base * 7 + 1];
    action[0] = action[1] = 0.0f;
    if (poses[top * 7 + 2] < down_z) return;  // the top block is down: done
    // Sweep along x through the tower's base; line up in y first while still far away.
    const double side = px < bx ? 1.0 : -1.0;
    const double far = std::abs(px - bx) > 0.08;
    const double tx = far && std::abs(py - by) > 0.02 ? px : bx + side * 0.15;
    double vx = (tx - px) * 6.0, vy = (by - py) * 6.0;
    const double v = std::hypot(vx, vy), speed = max_speed;  // hit hard: the top slips off
    if (v > speed) vx *= speed / v, vy *= speed / v;
    action[0] = clamp1(vx / max_speed);
    action[1] = clamp1(vy / max_speed);
  });
}

// The scripted controller of a scene, if it has one.
std::optional<Controller> find_expert(const sim::SceneModel& s) {
  if (auto c = push_expert(s)) return c;
  if (auto c = tower_expert(s)) return c;
  return std::nullopt;
}

// Expert, optionally with Ornstein-Uhlenbeck noise (correlation ~0.3 s at 30 Hz) added.
class ExpertPolicy final : public Policy {
 public:
  ExpertPolicy(std::shared_ptr<const sim::SceneModel> scene, Controller c, int num_envs,
               std::uint64_t seed, double noise_sigma)
      : scene_(std::move(scene)),
        ctl_(std::move(c)),
        n_(num_envs),
        a_(scene_->action_size()),
        k_(static_cast<int>(scene_->bodies.size())),
        m_(static_cast<int>(scene_->markers.size())),
        seed_(seed),
        sigma_(noise_sigma),
        rng_(num_envs),
        noise_(static_cast<std::size_t>(num_envs * a_), 0.0) {
    for (int i = 0; i < n_; ++i) reset(i, static_cast<std::uint64_t>(i));
  }
  void reset(int env, std::uint64_t seed) override {
    assert(env >= 0 && env < n_ && "Policy::reset: env out of range");
    rng_[env].seed(mix(seed_ ^ mix(seed ^ 0x5EEDull)));
    std::normal_distribution<double> g(0.0, sigma_);
    for (int k = 0; k < a_; ++k) noise_[env * a_ + k] = sigma_ > 0 ? g(rng_[env]) : 0.0;
  }
  void act(const PolicyInput& in, std::span<float> actions) override {
    check_input(in, actions, n_, a_);
    assert(in.poses.size() == static_cast<std::size_t>(n_ * k_ * 7) && "poses must be [N,K,7]");
    assert(in.markers.size() == static_cast<std::size_t>(n_ * m_ * 3) && "markers must be [N,M,3]");
    constexpr double theta = 0.9;  // per-step noise persistence
    const double innov = std::sqrt(1.0 - theta * theta);
    for (int i = 0; i < n_; ++i) {
      float* a = actions.data() + i * a_;
      ctl_(in.poses.data() + i * k_ * 7, in.markers.data() + i * m_ * 3, a);
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
  int n_, a_, k_, m_;
  std::uint64_t seed_;
  double sigma_;
  std::vector<std::mt19937_64> rng_;
  std::vector<double> noise_;  // [N, A] current OU noise
};

}  // namespace

std::vector<std::string> policy_kinds(const sim::SceneModel& scene) {
  if (find_expert(scene)) return {"random", "expert", "noisy"};
  return {"random"};
}

std::unique_ptr<Policy> make_policy(const std::string& kind,
                                    std::shared_ptr<const sim::SceneModel> scene, int num_envs,
                                    std::uint64_t seed) {
  assert(scene && "make_policy: scene is null");
  assert(num_envs >= 1 && "make_policy: num_envs must be >= 1");
  if (kind == "random") return std::make_unique<RandomPolicy>(num_envs, scene->action_size(), seed);
  if (kind != "expert" && kind != "noisy")
    throw std::invalid_argument("policy \"" + kind +
                                "\": unknown (expected random, expert or noisy)");
  auto c = find_expert(*scene);
  if (!c)
    throw std::invalid_argument("policy \"" + kind + "\": scene \"" + scene->name +
                                "\" has no scripted expert (available: random)");
  const double sigma = kind == "noisy" ? 0.35 : 0.0;  // noise std, in action units
  return std::make_unique<ExpertPolicy>(std::move(scene), std::move(*c), num_envs, seed, sigma);
}

}  // namespace parallax::agents
