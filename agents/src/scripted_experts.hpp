// The scripted experts of the shipped scenes (push, tower, billiards, cartpole, reacher): one
// controller per scene, found from its body, marker and joint names. Private to agents/: the
// policy factory (policy.cpp) wraps them as the `expert` and `noisy` policies.
#pragma once

#include <functional>
#include <optional>

#include "parallax/sim/scene.hpp"

namespace parallax::agents::detail {

// One env's state, pointers into PolicyInput; velocities / joints are null when not given.
struct EnvState {
  const float* poses;       // [K, 7]
  const float* markers;     // [M, 3]
  const float* velocities;  // [K, 6] or null
  const float* joints;      // [J, 2] or null
};

// One env's controller: state in, action [A] out. Built per scene from its body names, with
// what state beyond poses and markers it reads.
struct Controller {
  std::function<void(const EnvState& s, float* action /* [A] */)> fn;
  bool needs_velocities = false;
  bool needs_joints = false;
};

// The scripted controller of a scene, if it has one.
std::optional<Controller> find_expert(const sim::SceneModel& s);

}  // namespace parallax::agents::detail
