// World::Impl: the Bullet side of a World, shared by the world_*.cpp files (one concept each:
// world_build.cpp builds it from the scene, world_episode.cpp resets it, world_actuation.cpp
// turns actions into forces, world_joints.cpp reads and drives joints, world_reward.cpp and
// world_termination.cpp score a step, world_snapshot.cpp saves and restores it, world.cpp is the
// public API and the control step).
//
// Determinism: btSequentialImpulseConstraintSolver without randomised order, fixed physics step
// (stepSimulation(dt, 0)), no deactivation (sleeping would be hidden state), and every reset /
// save / restore "canonicalises" the world: all constraints and bodies are removed, the
// broadphase pool and the solver are reset, and everything is re-added in file order. After
// that, the future depends only on the bodies' state, which WorldState copies bit for bit.
#pragma once

#include <btBulletDynamicsCommon.h>

#include <cstdint>
#include <memory>
#include <random>
#include <span>
#include <vector>

#include "parallax/sim/world.hpp"
#include "plane_contact.hpp"

namespace parallax::sim {

// Uniform double in [0, 1) from 53 random bits: portable, unlike std::uniform_real_distribution.
inline double uniform01(std::mt19937_64& rng) {
  return static_cast<double>(rng() >> 11) * 0x1.0p-53;
}
inline double uniform(std::mt19937_64& rng, double lo, double hi) {
  return lo == hi ? lo : lo + (hi - lo) * uniform01(rng);
}

inline btVector3 bt(const Vec3& v) {
  return btVector3(static_cast<btScalar>(v[0]), static_cast<btScalar>(v[1]),
                   static_cast<btScalar>(v[2]));
}
inline btQuaternion bt(const Quat& q) {
  return btQuaternion(static_cast<btScalar>(q[0]), static_cast<btScalar>(q[1]),
                      static_cast<btScalar>(q[2]), static_cast<btScalar>(q[3]));
}

inline void put_vec(float* out, const btVector3& v) {
  for (int i = 0; i < 3; ++i) out[i] = v[i];
}
inline btVector3 get_vec(const float* in) {
  return btVector3(in[0], in[1], in[2]);
}

struct World::Impl {
  struct Body {
    std::unique_ptr<btCollisionShape> shape;
    std::unique_ptr<btRigidBody> rb;
    btTransform nominal;  // pose from the scene file
    float size_scale = 1, mass_scale = 1, friction = 0;
    float color[3] = {0, 0, 0};
    bool dynamic = false, kinematic = false;
  };
  struct Joint {
    std::unique_ptr<btTypedConstraint> c;
    btHingeConstraint* hinge = nullptr;
    btSliderConstraint* slider = nullptr;
    btRigidBody* a = nullptr;  // the world anchor when body_a is "world"
    btRigidBody* b = nullptr;
    int ia = -1, ib = -1;          // body indices, -1 = world
    btTransform frame_a, frame_b;  // joint frame in a's / b's local frame
    int depth = 0;                 // joints between the world and body b (for ordering)
  };
  struct Actuator {
    const ActuatorDef* def;
    int body = -1, joint = -1, offset = 0;
  };
  struct Reward {
    const RewardTerm* def;
    int a_body = -1, a_marker = -1, b_body = -1, b_marker = -1, joint = -1;
  };

  std::shared_ptr<const SceneModel> scene;
  btScalar dt = 0;  // physics step, s
  int substeps = 1;
  std::uint64_t layout = 0;

  // Bullet objects, destroyed in reverse order of this list (see ~Impl).
  std::unique_ptr<btDefaultCollisionConfiguration> config;
  std::unique_ptr<btCollisionDispatcher> dispatcher;
  PlaneContacts plane_contacts;  // registered with the dispatcher; destroyed after it
  std::unique_ptr<btDbvtBroadphase> broadphase;
  std::unique_ptr<btSequentialImpulseConstraintSolver> solver;
  std::unique_ptr<btDiscreteDynamicsWorld> world;
  std::unique_ptr<btRigidBody> anchor;  // static, not in the world: "world" end of joints
  std::vector<Body> bodies;
  std::vector<Joint> joints;
  std::vector<int> joint_order;  // joints sorted by depth (parents before children)
  std::vector<Actuator> actuators;
  std::vector<Reward> rewards;
  std::vector<int> term_body, term_joint;

  // Episode state beyond Bullet's.
  std::vector<float> markers;               // [M, 3]
  std::vector<std::uint8_t> success_fired;  // [R]
  int steps = 0;
  bool diverged = false;

  // Per-step actuator commands (preallocated).
  std::vector<btTransform> delta;     // [K] reset scratch: pose change vs nominal
  std::vector<btVector3> planar_vel;  // [num actuators] target velocity, m/s
  std::vector<float> scaled;          // [A] clamped and scaled action

  explicit Impl(std::shared_ptr<const SceneModel> s);
  ~Impl();
  void build_shape(int i, float size_scale);
  void apply_params(int i);
  void detach();        // removes every constraint and body from the Bullet world
  void attach();        // resets broadphase pool and solver, re-adds everything in file order
  void canonicalize();  // detach() + attach(): drops every cache Bullet keeps between steps
  bool attached = false;
  void reset(std::uint64_t seed);
  StepResult step(std::span<const float> action);
  // Actuation (world_actuation.cpp): commands held for a control step from `scaled`, then the
  // forces, motions and joint damping of one physics step.
  void command_actuators();
  void apply_actuators();
  void apply_joint_damping();
  // This step's reward (world_reward.cpp); sets `terminated` on a terminating success.
  double evaluate_rewards(bool& terminated);
  // Whether any termination condition holds (world_termination.cpp).
  bool any_termination() const;
  btVector3 point_of(int body, int marker, const Vec3& offset) const;
  double joint_position(const Joint& j) const;
  double joint_velocity(const Joint& j) const;
  btVector3 joint_axis_world(const Joint& j) const;
  // Applies `effort` along the joint (a torque for a hinge, a force for a slider) to body b and
  // its reaction to body a.
  static void apply_joint_effort(const Joint& j, const btVector3& effort);
  bool touching(int a, int b) const;
};

}  // namespace parallax::sim
