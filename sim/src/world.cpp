// World: the public API over World::Impl (world_impl.hpp) and the control step.
#include "parallax/sim/world.hpp"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <stdexcept>
#include <string>

#include "world_impl.hpp"

namespace parallax::sim {

StepResult World::Impl::step(std::span<const float> action) {
  const SceneModel& sc = *scene;
  if (action.size() != scaled.size()) {
    throw std::invalid_argument("action has " + std::to_string(action.size()) +
                                " components; scene '" + sc.name + "' expects " +
                                std::to_string(scaled.size()));
  }
  for (std::size_t i = 0; i < action.size(); ++i) {
    if (!std::isfinite(action[i])) {
      throw std::invalid_argument("action[" + std::to_string(i) +
                                  "] = " + std::to_string(action[i]) +
                                  ": expected a finite number in [-1, 1]");
    }
    scaled[i] = std::clamp(action[i], -1.0f, 1.0f);
  }
  command_actuators();  // held for the whole control step
  for (int s = 0; s < substeps; ++s) {
    apply_actuators();
    apply_joint_damping();
    world->stepSimulation(dt, 0, dt);
  }
  ++steps;

  StepResult out;
  // Bad numbers are data: a non-finite body ends the episode with zero reward.
  for (const auto& b : bodies) {
    const btTransform& t = b.rb->getWorldTransform();
    const btVector3& v = b.rb->getLinearVelocity();
    if (!std::isfinite(t.getOrigin().length2() + t.getRotation().length2() + v.length2() +
                       b.rb->getAngularVelocity().length2()))
      diverged = true;
  }
  if (diverged) {
    out.terminated = true;
    out.truncated = steps >= sc.episode_steps;
    return out;
  }
  const double reward = evaluate_rewards(out.terminated);
  if (any_termination()) out.terminated = true;
  out.reward = static_cast<float>(reward);
  out.truncated = steps >= sc.episode_steps;
  return out;
}

// ---- World

World::World(std::shared_ptr<const SceneModel> scene, std::uint64_t seed) {
  assert(scene && "World needs a scene");
  impl_ = std::make_unique<Impl>(std::move(scene));
  impl_->reset(seed);
}
World::~World() = default;
World::World(World&&) noexcept = default;
World& World::operator=(World&&) noexcept = default;

const SceneModel& World::scene() const {
  return *impl_->scene;
}
std::shared_ptr<const SceneModel> World::scene_ptr() const {
  return impl_->scene;
}
void World::reset(std::uint64_t seed) {
  impl_->reset(seed);
}
StepResult World::step(std::span<const float> action) {
  return impl_->step(action);
}
int World::steps() const {
  return impl_->steps;
}
bool World::diverged() const {
  return impl_->diverged;
}

void World::poses(std::span<float> out) const {
  assert(out.size() == impl_->bodies.size() * 7 && "poses: out must be [K, 7]");
  for (std::size_t i = 0; i < impl_->bodies.size(); ++i) {
    const btTransform& t = impl_->bodies[i].rb->getWorldTransform();
    btQuaternion q = t.getRotation();
    float* o = &out[i * 7];
    o[0] = t.getOrigin().x(), o[1] = t.getOrigin().y(), o[2] = t.getOrigin().z();
    o[3] = q.x(), o[4] = q.y(), o[5] = q.z(), o[6] = q.w();
  }
}

void World::velocities(std::span<float> out) const {
  assert(out.size() == impl_->bodies.size() * 6 && "velocities: out must be [K, 6]");
  for (std::size_t i = 0; i < impl_->bodies.size(); ++i) {
    const btRigidBody* rb = impl_->bodies[i].rb.get();
    put_vec(&out[i * 6], rb->getLinearVelocity());
    put_vec(&out[i * 6 + 3], rb->getAngularVelocity());
  }
}

void World::marker_positions(std::span<float> out) const {
  assert(out.size() == impl_->markers.size() && "marker_positions: out must be [M, 3]");
  std::copy(impl_->markers.begin(), impl_->markers.end(), out.begin());
}

void World::joint_states(std::span<float> out) const {
  assert(out.size() == impl_->joints.size() * 2 && "joint_states: out must be [J, 2]");
  for (std::size_t j = 0; j < impl_->joints.size(); ++j) {
    out[j * 2] = static_cast<float>(impl_->joint_position(impl_->joints[j]));
    out[j * 2 + 1] = static_cast<float>(impl_->joint_velocity(impl_->joints[j]));
  }
}

void World::body_colors(std::span<float> out) const {
  assert(out.size() == impl_->bodies.size() * 3 && "body_colors: out must be [K, 3]");
  for (std::size_t i = 0; i < impl_->bodies.size(); ++i)
    for (int c = 0; c < 3; ++c) out[i * 3 + c] = impl_->bodies[i].color[c];
}

void World::body_size_scales(std::span<float> out) const {
  assert(out.size() == impl_->bodies.size() && "body_size_scales: out must be [K]");
  for (std::size_t i = 0; i < impl_->bodies.size(); ++i) out[i] = impl_->bodies[i].size_scale;
}

}  // namespace parallax::sim
