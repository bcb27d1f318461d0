// Building a World::Impl from a scene: the Bullet world and its solver settings, bodies with
// their shapes and exact inertias, joints, and actuators, rewards and terminations resolved to
// indices once.
#include "world_impl.hpp"

#include <algorithm>
#include <cassert>
#include <cmath>

#include "collision_shape.hpp"
#include "parallax/sim/inertia.hpp"

namespace parallax::sim {

namespace {

// A frame whose z axis (hinge) or x axis (slider) is `axis`, at `origin`.
btTransform axis_frame(const btVector3& origin, const btVector3& axis, bool axis_is_x) {
  btVector3 n = axis.normalized(), p, q;
  btPlaneSpace1(n, p, q);  // n, p, q orthonormal, right-handed
  btMatrix3x3 basis;
  if (axis_is_x)
    basis.setValue(n.x(), p.x(), q.x(), n.y(), p.y(), q.y(), n.z(), p.z(), q.z());
  else
    basis.setValue(p.x(), q.x(), n.x(), p.y(), q.y(), n.y(), p.z(), q.z(), n.z());
  return btTransform(basis, origin);
}

}  // namespace

World::Impl::Impl(std::shared_ptr<const SceneModel> s) : scene(std::move(s)) {
  const SceneModel& sc = *scene;
  assert(sc.control_hz > 0 && sc.physics_hz > 0 && "World needs a validated scene");
  substeps = sc.substeps();
  dt = static_cast<btScalar>(1.0 / sc.physics_hz);

  config = std::make_unique<btDefaultCollisionConfiguration>();
  dispatcher = std::make_unique<btCollisionDispatcher>(config.get());
  // Boxes, cylinders and capsules on planes: the exact contact set every step (plane_contact.hpp).
  plane_contacts.register_with(*dispatcher);
  broadphase = std::make_unique<btDbvtBroadphase>();
  solver = std::make_unique<btSequentialImpulseConstraintSolver>();
  world = std::make_unique<btDiscreteDynamicsWorld>(dispatcher.get(), broadphase.get(),
                                                    solver.get(), config.get());
  world->setGravity(bt(sc.gravity));
  // Deterministic solver settings: fixed order, warm starting within a run of steps.
  btContactSolverInfo& info = world->getSolverInfo();
  info.m_solverMode &= ~SOLVER_RANDMIZE_ORDER;
  info.m_numIterations = 20;
  // Resolve every penetration with split impulses (position-only), never by adding velocity:
  // otherwise a contact found 4 mm deep at 1 m/s bounces back 20 % faster than it came.
  info.m_splitImpulse = 1;
  info.m_splitImpulsePenetrationThreshold = 0;
  anchor = std::make_unique<btRigidBody>(0, nullptr, nullptr);

  // Bodies.
  bodies.resize(sc.bodies.size());
  for (std::size_t i = 0; i < sc.bodies.size(); ++i) {
    const BodyDef& d = sc.bodies[i];
    Body& b = bodies[i];
    b.nominal = btTransform(bt(d.orientation), bt(d.position));
    b.dynamic = d.mass > 0 && !d.kinematic;
    b.kinematic = d.kinematic;
    build_shape(static_cast<int>(i), 1.0f);
    btRigidBody::btRigidBodyConstructionInfo ci(0, nullptr, b.shape.get());
    b.rb = std::make_unique<btRigidBody>(ci);
    b.rb->setUserIndex(static_cast<int>(i));
    b.rb->setRestitution(static_cast<btScalar>(d.restitution));
    b.rb->setRollingFriction(static_cast<btScalar>(d.rolling_friction));
    b.rb->setSpinningFriction(static_cast<btScalar>(d.rolling_friction));
    b.rb->setDamping(static_cast<btScalar>(d.linear_damping),
                     static_cast<btScalar>(d.angular_damping));
    if (d.kinematic) {
      // Mass 0 made it static; a kinematic body is moved by us and pushes dynamic bodies.
      b.rb->setCollisionFlags((b.rb->getCollisionFlags() & ~btCollisionObject::CF_STATIC_OBJECT) |
                              btCollisionObject::CF_KINEMATIC_OBJECT);
    }
    // Sleeping is hidden state that snapshots would have to carry; nothing here is big enough
    // to need it.
    if (!(d.mass == 0 && !d.kinematic)) b.rb->setActivationState(DISABLE_DEACTIVATION);
    b.size_scale = 1;
    b.mass_scale = 1;
    b.friction = static_cast<float>(d.friction);
    for (int c = 0; c < 3; ++c) b.color[c] = static_cast<float>(d.color[c]);
  }

  // Joints: frames from the nominal poses, so that joint position 0 is the file's pose.
  joints.resize(sc.joints.size());
  for (std::size_t i = 0; i < sc.joints.size(); ++i) {
    const JointDef& d = sc.joints[i];
    Joint& j = joints[i];
    j.ia = d.body_a == "world" ? -1 : sc.body_index(d.body_a);
    j.ib = sc.body_index(d.body_b);
    assert(j.ib >= 0 && "joint body_b must exist (validated by the loader)");
    j.a = j.ia < 0 ? anchor.get() : bodies[j.ia].rb.get();
    j.b = bodies[j.ib].rb.get();
    bool slider = d.type == JointType::kSlider;
    btTransform f = axis_frame(bt(d.pivot), bt(d.axis), slider);
    btTransform ta = j.ia < 0 ? btTransform::getIdentity() : bodies[j.ia].nominal;
    j.frame_a = ta.inverse() * f;
    j.frame_b = bodies[j.ib].nominal.inverse() * f;
    if (slider) {
      auto c = std::make_unique<btSliderConstraint>(*j.a, *j.b, j.frame_a, j.frame_b, true);
      // Angular motion locked; linear free unless limited.
      c->setLowerAngLimit(0);
      c->setUpperAngLimit(0);
      if (d.limits) {
        c->setLowerLinLimit(static_cast<btScalar>(d.limits->low));
        c->setUpperLinLimit(static_cast<btScalar>(d.limits->high));
      } else {
        c->setLowerLinLimit(1);
        c->setUpperLinLimit(-1);
      }
      j.slider = c.get();
      j.c = std::move(c);
    } else {
      // useReferenceFrameA = true: Bullet then reports (and limits) the angle of b relative to a,
      // positive by the right-hand rule about the axis.
      auto c = std::make_unique<btHingeConstraint>(*j.a, *j.b, j.frame_a, j.frame_b, true);
      if (d.limits)
        c->setLimit(static_cast<btScalar>(d.limits->low), static_cast<btScalar>(d.limits->high));
      j.hinge = c.get();
      j.c = std::move(c);
    }
  }
  // Depth of each joint: parents first, so randomised joint positions compose root to leaf.
  for (std::size_t i = 0; i < joints.size(); ++i) {
    int depth = 0;
    for (int cur = joints[i].ia; cur >= 0;) {
      int parent = -1;
      for (std::size_t k = 0; k < joints.size(); ++k)
        if (joints[k].ib == cur) parent = joints[k].ia;
      ++depth;
      cur = parent;
      if (depth > static_cast<int>(joints.size())) break;
    }
    joints[i].depth = depth;
    joint_order.push_back(static_cast<int>(i));
  }
  std::stable_sort(joint_order.begin(), joint_order.end(),
                   [&](int x, int y) { return joints[x].depth < joints[y].depth; });

  // Actuators, rewards, terminations resolved to indices once.
  int offset = 0;
  for (const auto& a : sc.actuators) {
    Actuator r{&a, a.body.empty() ? -1 : sc.body_index(a.body),
               a.joint.empty() ? -1 : sc.joint_index(a.joint), offset};
    offset += a.components;
    actuators.push_back(r);
  }
  for (const auto& t : sc.reward) {
    Reward r{&t};
    r.a_body = t.a.empty() ? -1 : sc.body_index(t.a);
    r.a_marker = r.a_body >= 0 || t.a.empty() ? -1 : sc.marker_index(t.a);
    r.b_body = t.b.empty() ? -1 : sc.body_index(t.b);
    r.b_marker = r.b_body >= 0 || t.b.empty() ? -1 : sc.marker_index(t.b);
    r.joint = t.joint.empty() ? -1 : sc.joint_index(t.joint);
    rewards.push_back(r);
  }
  for (const auto& t : sc.terminations) {
    term_body.push_back(t.body.empty() ? -1 : sc.body_index(t.body));
    term_joint.push_back(t.joint.empty() ? -1 : sc.joint_index(t.joint));
  }
  markers.assign(sc.markers.size() * 3, 0.0f);
  success_fired.assign(sc.reward.size(), 0);
  planar_vel.assign(actuators.size(), btVector3(0, 0, 0));
  scaled.assign(static_cast<std::size_t>(sc.action_size()), 0.0f);

  // Layout tag: FNV-1a over the scene's counts and name, so a snapshot of another scene is
  // refused.
  std::uint64_t h = 1469598103934665603ull;
  auto mix = [&](std::uint64_t v) {
    for (int k = 0; k < 8; ++k) h = (h ^ ((v >> (8 * k)) & 0xff)) * 1099511628211ull;
  };
  mix(sc.bodies.size()), mix(sc.joints.size()), mix(sc.markers.size()), mix(sc.reward.size());
  for (char c : sc.name) mix(static_cast<unsigned char>(c));
  layout = h;

  for (std::size_t i = 0; i < bodies.size(); ++i) apply_params(static_cast<int>(i));
  // Bodies and constraints enter the world in canonicalize(), called by reset().
}

World::Impl::~Impl() {
  if (world) detach();
  world.reset();
  joints.clear();
  bodies.clear();
  anchor.reset();
  solver.reset();
  broadphase.reset();
  dispatcher.reset();
  config.reset();
}

// Collision shape of body i at `size_scale` (collision_shape.cpp).
void World::Impl::build_shape(int i, float size_scale) {
  Body& b = bodies[i];
  b.shape = make_collision_shape(scene->bodies[i], size_scale);
  b.size_scale = size_scale;
  if (b.rb) b.rb->setCollisionShape(b.shape.get());
}

// Mass, inertia and friction from the episode parameters of body i.
void World::Impl::apply_params(int i) {
  const BodyDef& d = scene->bodies[i];
  Body& b = bodies[i];
  if (b.dynamic) {
    btScalar mass = static_cast<btScalar>(d.mass) * b.mass_scale;
    // Exact solid inertia (Bullet's capsule uses its bounding box), computed in double from the
    // mass as Bullet stores it.
    const Vec3 i3 = solid_inertia(d, static_cast<double>(mass), b.size_scale);
    btVector3 inertia = bt(i3);
    b.rb->setMassProps(mass, inertia);
    b.rb->updateInertiaTensor();
  }
  b.rb->setFriction(b.friction);
}

}  // namespace parallax::sim
