// World: one Bullet dynamics world per scene instance.
//
// Determinism: btSequentialImpulseConstraintSolver without randomised order, fixed physics step
// (stepSimulation(dt, 0)), no deactivation (sleeping would be hidden state), and every reset /
// save / restore "canonicalises" the world: all constraints and bodies are removed, the
// broadphase pool and the solver are reset, and everything is re-added in file order. After
// that, the future depends only on the bodies' state, which WorldState copies bit for bit.
#include "parallax/sim/world.hpp"

#include "parallax/sim/inertia.hpp"
#include "plane_contact.hpp"

#include <btBulletDynamicsCommon.h>

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstring>
#include <random>
#include <stdexcept>
#include <string>

namespace parallax::sim {

namespace {

// Uniform double in [0, 1) from 53 random bits: portable, unlike std::uniform_real_distribution.
double uniform01(std::mt19937_64& rng) {
  return static_cast<double>(rng() >> 11) * 0x1.0p-53;
}
double uniform(std::mt19937_64& rng, double lo, double hi) {
  return lo == hi ? lo : lo + (hi - lo) * uniform01(rng);
}

btVector3 bt(const Vec3& v) {
  return btVector3(static_cast<btScalar>(v[0]), static_cast<btScalar>(v[1]),
                   static_cast<btScalar>(v[2]));
}
btQuaternion bt(const Quat& q) {
  return btQuaternion(static_cast<btScalar>(q[0]), static_cast<btScalar>(q[1]),
                      static_cast<btScalar>(q[2]), static_cast<btScalar>(q[3]));
}

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

constexpr int kBodyFloats = 36;  // transform 12, interpolation transform 12, 4 velocities x 3
constexpr int kParamFloats = 6;  // size scale, mass scale, friction, colour rgb

void put_transform(float* out, const btTransform& t) {
  const btMatrix3x3& b = t.getBasis();
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 3; ++c) out[r * 3 + c] = b[r][c];
  for (int i = 0; i < 3; ++i) out[9 + i] = t.getOrigin()[i];
}
btTransform get_transform(const float* in) {
  btMatrix3x3 b(in[0], in[1], in[2], in[3], in[4], in[5], in[6], in[7], in[8]);
  return btTransform(b, btVector3(in[9], in[10], in[11]));
}
void put_vec(float* out, const btVector3& v) {
  for (int i = 0; i < 3; ++i) out[i] = v[i];
}
btVector3 get_vec(const float* in) {
  return btVector3(in[0], in[1], in[2]);
}

}  // namespace

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
  btVector3 point_of(int body, int marker, const Vec3& offset) const;
  double joint_position(const Joint& j) const;
  double joint_velocity(const Joint& j) const;
  btVector3 joint_axis_world(const Joint& j) const;
  // Applies `effort` along the joint (a torque for a hinge, a force for a slider) to body b and
  // its reaction to body a.
  static void apply_joint_effort(const Joint& j, const btVector3& effort);
  bool touching(int a, int b) const;
};

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

// Collision shape of body i at `size_scale`, with a collision margin suited to its size: Bullet's
// default 0.04 m would round a 0.04 m box into a sphere.
void World::Impl::build_shape(int i, float size_scale) {
  const BodyDef& d = scene->bodies[i];
  Body& b = bodies[i];
  const btScalar s = size_scale;
  auto auto_margin = [&](double smallest) {
    return static_cast<btScalar>(d.margin >= 0 ? d.margin : std::min(0.04, 0.1 * smallest * s));
  };
  switch (d.shape) {
    case Shape::kPlane:
      b.shape = std::make_unique<btStaticPlaneShape>(bt(d.plane_normal), btScalar(0));
      break;
    case Shape::kBox: {
      auto box = std::make_unique<btBoxShape>(bt(d.half_extents) * s);
      box->setMargin(
          auto_margin(std::min({d.half_extents[0], d.half_extents[1], d.half_extents[2]})));
      b.shape = std::move(box);
      break;
    }
    case Shape::kSphere:
      b.shape = std::make_unique<btSphereShape>(static_cast<btScalar>(d.radius) * s);
      break;
    case Shape::kCylinder: {
      btVector3 he(static_cast<btScalar>(d.radius), static_cast<btScalar>(d.radius),
                   static_cast<btScalar>(d.half_height));
      auto cyl = std::make_unique<btCylinderShapeZ>(he * s);
      cyl->setMargin(auto_margin(std::min(d.radius, d.half_height)));
      b.shape = std::move(cyl);
      break;
    }
    case Shape::kCapsule:
      b.shape = std::make_unique<btCapsuleShapeZ>(static_cast<btScalar>(d.radius) * s,
                                                  static_cast<btScalar>(2 * d.half_height) * s);
      break;
  }
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

// Drops every cache Bullet keeps between steps (see the file comment).
void World::Impl::detach() {
  if (!attached) return;
  for (auto it = joints.rbegin(); it != joints.rend(); ++it) world->removeConstraint(it->c.get());
  for (auto it = bodies.rbegin(); it != bodies.rend(); ++it) world->removeRigidBody(it->rb.get());
  attached = false;
}

void World::Impl::attach() {
  assert(!attached && "attach() after attach()");
  broadphase->resetPool(dispatcher.get());
  solver->reset();
  for (auto& b : bodies) {
    world->addRigidBody(b.rb.get());
    if (b.dynamic || b.kinematic) b.rb->forceActivationState(DISABLE_DEACTIVATION);
  }
  for (auto& j : joints)
    world->addConstraint(j.c.get(), /*disableCollisionsBetweenLinkedBodies=*/true);
  attached = true;
}

void World::Impl::canonicalize() {
  detach();
  attach();
}

void World::Impl::reset(std::uint64_t seed) {
  const SceneModel& sc = *scene;
  detach();  // shapes may be rebuilt below: nothing of Bullet's may hold on to them
  std::mt19937_64 rng(seed);
  const std::size_t K = bodies.size();
  // Episode parameters and root poses, drawn body by body in file order.
  delta.assign(K, btTransform::getIdentity());  // no allocation after the first reset
  for (std::size_t i = 0; i < K; ++i) {
    const BodyDef& d = sc.bodies[i];
    const BodyRandomize& r = d.randomize;
    Body& b = bodies[i];
    btTransform pose = b.nominal;
    if (r.position) {
      Vec3 p;
      for (int c = 0; c < 3; ++c) p[c] = uniform(rng, r.position->low[c], r.position->high[c]);
      pose.setOrigin(bt(p));
    }
    if (r.yaw_deg) {
      double yaw = uniform(rng, r.yaw_deg->low, r.yaw_deg->high) * M_PI / 180.0;
      btQuaternion qz(btVector3(0, 0, 1), static_cast<btScalar>(yaw));
      pose.setRotation(qz * b.nominal.getRotation());
    }
    delta[i] = pose * b.nominal.inverse();
    float size = r.size_scale
                     ? static_cast<float>(uniform(rng, r.size_scale->low, r.size_scale->high))
                     : 1.0f;
    b.mass_scale = r.mass_scale
                       ? static_cast<float>(uniform(rng, r.mass_scale->low, r.mass_scale->high))
                       : 1.0f;
    b.friction = static_cast<float>(r.friction ? uniform(rng, r.friction->low, r.friction->high)
                                               : d.friction);
    for (int c = 0; c < 3; ++c)
      b.color[c] = static_cast<float>(r.color ? uniform(rng, r.color->low[c], r.color->high[c])
                                              : d.color[c]);
    if (size != b.size_scale) build_shape(static_cast<int>(i), size);
    apply_params(static_cast<int>(i));
  }
  for (std::size_t m = 0; m < sc.markers.size(); ++m) {
    const MarkerDef& d = sc.markers[m];
    for (int c = 0; c < 3; ++c) {
      double v = d.randomize_position
                     ? uniform(rng, d.randomize_position->low[c], d.randomize_position->high[c])
                     : d.position[c];
      markers[m * 3 + c] = static_cast<float>(v);
    }
  }
  // Joint positions, root to leaf: body b follows its parent's motion and then its joint's.
  for (int ji : joint_order) {
    const JointDef& d = sc.joints[ji];
    const Joint& j = joints[ji];
    btTransform parent = j.ia < 0 ? btTransform::getIdentity() : delta[j.ia];
    btTransform motion = btTransform::getIdentity();
    if (d.randomize_position) {
      double q = uniform(rng, d.randomize_position->low, d.randomize_position->high);
      btVector3 pivot = parent * bt(d.pivot);
      btVector3 axis = parent.getBasis() * bt(d.axis);
      if (d.type == JointType::kHinge) {
        btTransform rot(btQuaternion(axis, static_cast<btScalar>(q)));
        motion = btTransform(btMatrix3x3::getIdentity(), pivot) * rot *
                 btTransform(btMatrix3x3::getIdentity(), -pivot);
      } else {
        motion.setOrigin(axis * static_cast<btScalar>(q));
      }
    }
    delta[j.ib] = motion * parent;
  }
  // Body states.
  for (std::size_t i = 0; i < K; ++i) {
    const BodyDef& d = sc.bodies[i];
    btRigidBody* rb = bodies[i].rb.get();
    btTransform pose = delta[i] * bodies[i].nominal;
    rb->setWorldTransform(pose);
    rb->setInterpolationWorldTransform(pose);
    btVector3 v = bodies[i].dynamic ? bt(d.linear_velocity) : btVector3(0, 0, 0);
    btVector3 w = bodies[i].dynamic ? bt(d.angular_velocity) : btVector3(0, 0, 0);
    rb->setLinearVelocity(v);
    rb->setAngularVelocity(w);
    rb->setInterpolationLinearVelocity(v);
    rb->setInterpolationAngularVelocity(w);
    rb->clearForces();
    rb->updateInertiaTensor();
  }
  for (auto& j : joints) {
    if (j.hinge) j.hinge->enableMotor(false);
    if (j.slider) j.slider->setPoweredLinMotor(false);
  }
  std::fill(success_fired.begin(), success_fired.end(), 0);
  steps = 0;
  diverged = false;
  attach();
}

btVector3 World::Impl::point_of(int body, int marker, const Vec3& offset) const {
  if (body >= 0) return bodies[body].rb->getWorldTransform() * bt(offset);
  return btVector3(markers[marker * 3], markers[marker * 3 + 1], markers[marker * 3 + 2]);
}

void World::Impl::apply_joint_effort(const Joint& j, const btVector3& effort) {
  if (j.hinge) {
    j.b->applyTorque(effort);
    if (j.ia >= 0) j.a->applyTorque(-effort);
  } else {
    j.b->applyCentralForce(effort);
    if (j.ia >= 0) j.a->applyCentralForce(-effort);
  }
}

btVector3 World::Impl::joint_axis_world(const Joint& j) const {
  btMatrix3x3 basis = j.a->getWorldTransform().getBasis() * j.frame_a.getBasis();
  return j.slider ? basis.getColumn(0) : basis.getColumn(2);
}

double World::Impl::joint_position(const Joint& j) const {
  if (j.hinge) return j.hinge->getHingeAngle();
  btTransform fa = j.a->getWorldTransform() * j.frame_a;
  btTransform fb = j.b->getWorldTransform() * j.frame_b;
  return (fb.getOrigin() - fa.getOrigin()).dot(fa.getBasis().getColumn(0));
}

double World::Impl::joint_velocity(const Joint& j) const {
  btVector3 axis = joint_axis_world(j);
  if (j.hinge) return (j.b->getAngularVelocity() - j.a->getAngularVelocity()).dot(axis);
  return (j.b->getLinearVelocity() - j.a->getLinearVelocity()).dot(axis);
}

bool World::Impl::touching(int a, int b) const {
  const btCollisionObject* oa = bodies[a].rb.get();
  const btCollisionObject* ob = bodies[b].rb.get();
  int n = dispatcher->getNumManifolds();
  for (int i = 0; i < n; ++i) {
    const btPersistentManifold* m = dispatcher->getManifoldByIndexInternal(i);
    bool pair = (m->getBody0() == oa && m->getBody1() == ob) ||
                (m->getBody0() == ob && m->getBody1() == oa);
    if (!pair) continue;
    for (int k = 0; k < m->getNumContacts(); ++k)
      if (m->getContactPoint(k).getDistance() <= btScalar(1e-3)) return true;
  }
  return false;
}

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
  // Commands that hold for the whole control step.
  for (std::size_t k = 0; k < actuators.size(); ++k) {
    const Actuator& a = actuators[k];
    const float* u = &scaled[a.offset];
    switch (a.def->type) {
      case ActuatorType::kPlanarVelocity: {
        btScalar s = static_cast<btScalar>(a.def->max_speed);
        planar_vel[k] = btVector3(u[0] * s, u[1] * s, 0);
        break;
      }
      case ActuatorType::kJointVelocity: {
        Joint& j = joints[a.joint];
        btScalar target = u[0] * static_cast<btScalar>(a.def->max_speed);
        btScalar fmax = static_cast<btScalar>(sc.joints[a.joint].max_motor_force);
        if (j.hinge) j.hinge->enableAngularMotor(true, target, fmax * dt);
        if (j.slider) {
          j.slider->setPoweredLinMotor(true);
          j.slider->setTargetLinMotorVelocity(target);
          j.slider->setMaxLinMotorForce(fmax);
        }
        break;
      }
      default:
        break;
    }
  }
  for (int s = 0; s < substeps; ++s) {
    for (std::size_t k = 0; k < actuators.size(); ++k) {
      const Actuator& a = actuators[k];
      const float* u = &scaled[a.offset];
      switch (a.def->type) {
        case ActuatorType::kPlanarVelocity: {
          btRigidBody* rb = bodies[a.body].rb.get();
          if (bodies[a.body].kinematic) {
            // Move the kinematic body; Bullet derives its velocity from the displacement.
            btTransform t = rb->getWorldTransform();
            t.setOrigin(t.getOrigin() + planar_vel[k] * dt);
            rb->setWorldTransform(t);
          } else {
            btVector3 v = planar_vel[k];
            v.setZ(rb->getLinearVelocity().z());
            rb->setLinearVelocity(v);
          }
          break;
        }
        case ActuatorType::kForce: {
          btScalar f = static_cast<btScalar>(a.def->max_force);
          btVector3 force = a.def->components == 1   ? bt(a.def->axis) * (u[0] * f)
                            : a.def->components == 2 ? btVector3(u[0] * f, u[1] * f, 0)
                                                     : btVector3(u[0] * f, u[1] * f, u[2] * f);
          bodies[a.body].rb->applyCentralForce(force);
          break;
        }
        case ActuatorType::kJointTorque: {
          const Joint& j = joints[a.joint];
          apply_joint_effort(
              j, joint_axis_world(j) * (u[0] * static_cast<btScalar>(a.def->max_force)));
          break;
        }
        default:
          break;
      }
    }
    for (std::size_t ji = 0; ji < joints.size(); ++ji) {
      double c = sc.joints[ji].damping;
      if (c <= 0) continue;
      const Joint& j = joints[ji];
      apply_joint_effort(j, joint_axis_world(j) * static_cast<btScalar>(-c * joint_velocity(j)));
    }
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
  double reward = 0;
  for (std::size_t r = 0; r < rewards.size(); ++r) {
    const Reward& rw = rewards[r];
    const RewardTerm& t = *rw.def;
    auto dist = [&] {
      btVector3 pa = point_of(rw.a_body, rw.a_marker, t.offset_a);
      btVector3 pb = t.point ? bt(*t.point) : point_of(rw.b_body, rw.b_marker, Vec3{0, 0, 0});
      btVector3 d = pa - pb;
      double s2 = 0;
      for (int c = 0; c < 3; ++c)
        if (t.axes[c]) s2 += static_cast<double>(d[c]) * d[c];
      return std::sqrt(s2);
    };
    switch (t.type) {
      case RewardType::kDistance:
        reward += t.weight * dist();
        break;
      case RewardType::kHeight:
        reward += t.weight * bodies[rw.a_body].rb->getWorldTransform().getOrigin().z();
        break;
      case RewardType::kJointCos:
        reward += t.weight * std::cos(joint_position(joints[rw.joint]));
        break;
      case RewardType::kVelocity:
        reward += t.weight * bodies[rw.a_body].rb->getLinearVelocity().length();
        break;
      case RewardType::kContact:
        if (touching(rw.a_body, rw.b_body)) reward += t.weight;
        break;
      case RewardType::kSuccess:
        if (dist() < t.within) {
          if (!success_fired[r]) reward += t.bonus;
          success_fired[r] = 1;
          if (t.terminate) out.terminated = true;
        }
        break;
    }
  }
  for (std::size_t k = 0; k < sc.terminations.size(); ++k) {
    const TerminationDef& t = sc.terminations[k];
    switch (t.type) {
      case TerminationType::kHeightBelow:
        if (bodies[term_body[k]].rb->getWorldTransform().getOrigin().z() < t.value)
          out.terminated = true;
        break;
      case TerminationType::kHeightAbove:
        if (bodies[term_body[k]].rb->getWorldTransform().getOrigin().z() > t.value)
          out.terminated = true;
        break;
      case TerminationType::kOutOfBounds: {
        const btVector3& p = bodies[term_body[k]].rb->getWorldTransform().getOrigin();
        if (std::abs(p.x()) > t.value || std::abs(p.y()) > t.value) out.terminated = true;
        break;
      }
      case TerminationType::kJointAbsAbove:
        if (std::abs(joint_position(joints[term_joint[k]])) > t.value) out.terminated = true;
        break;
    }
  }
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

WorldState World::save_state() const {
  Impl& m = *impl_;
  const std::size_t K = m.bodies.size();
  WorldState s;
  s.layout = m.layout;
  s.data.resize(3 + K * (kBodyFloats + kParamFloats) + m.markers.size() + m.success_fired.size());
  float* p = s.data.data();
  *p++ = static_cast<float>(m.steps);  // exact below 2^24 steps
  *p++ = m.diverged ? 1.0f : 0.0f;
  *p++ = 0.0f;  // reserved
  for (const auto& b : m.bodies) {
    const btRigidBody* rb = b.rb.get();
    put_transform(p, rb->getWorldTransform()), p += 12;
    put_transform(p, rb->getInterpolationWorldTransform()), p += 12;
    put_vec(p, rb->getLinearVelocity()), p += 3;
    put_vec(p, rb->getAngularVelocity()), p += 3;
    put_vec(p, rb->getInterpolationLinearVelocity()), p += 3;
    put_vec(p, rb->getInterpolationAngularVelocity()), p += 3;
    *p++ = b.size_scale, *p++ = b.mass_scale, *p++ = b.friction;
    *p++ = b.color[0], *p++ = b.color[1], *p++ = b.color[2];
  }
  for (float v : m.markers) *p++ = v;
  for (auto f : m.success_fired) *p++ = f;
  // The live world drops its caches too, so that its future equals a restored copy's.
  m.canonicalize();
  return s;
}

void World::perturb(float position_m, float yaw_deg, std::uint64_t seed) {
  Impl& m = *impl_;
  if (!std::isfinite(position_m) || !std::isfinite(yaw_deg) || position_m < 0 || yaw_deg < 0)
    throw std::invalid_argument("perturb: position_m and yaw_deg must be finite and >= 0, got " +
                                std::to_string(position_m) + " and " + std::to_string(yaw_deg));
  std::vector<char> on_joint(m.bodies.size(), 0);
  for (const auto& j : m.joints) {
    if (j.ia >= 0) on_joint[j.ia] = 1;
    if (j.ib >= 0) on_joint[j.ib] = 1;
  }
  std::mt19937_64 rng(seed);
  m.detach();
  for (std::size_t i = 0; i < m.bodies.size(); ++i) {
    auto& b = m.bodies[i];
    const double dir = uniform(rng, 0.0, 2.0 * M_PI);
    const double sign = uniform(rng, 0.0, 1.0) < 0.5 ? -1.0 : 1.0;
    if (!(b.dynamic || b.kinematic) || on_joint[i]) continue;
    btRigidBody* rb = b.rb.get();
    btTransform t = rb->getWorldTransform();
    t.setOrigin(t.getOrigin() + btVector3(static_cast<btScalar>(position_m * std::cos(dir)),
                                          static_cast<btScalar>(position_m * std::sin(dir)), 0));
    const btQuaternion qz(btVector3(0, 0, 1), static_cast<btScalar>(sign * yaw_deg * M_PI / 180.0));
    t.setRotation(qz * t.getRotation());
    rb->setWorldTransform(t);
    rb->setInterpolationWorldTransform(t);
  }
  m.attach();
}

void World::restore_state(const WorldState& s) {
  Impl& m = *impl_;
  const std::size_t K = m.bodies.size();
  const std::size_t need =
      3 + K * (kBodyFloats + kParamFloats) + m.markers.size() + m.success_fired.size();
  if (s.layout != m.layout || s.data.size() != need) {
    throw std::invalid_argument(
        "restore_state: the snapshot was taken from a world of another "
        "scene than '" +
        m.scene->name + "'");
  }
  m.detach();  // before any shape is rebuilt
  const float* p = s.data.data();
  m.steps = static_cast<int>(*p++);
  m.diverged = *p++ != 0.0f;
  ++p;
  for (std::size_t i = 0; i < K; ++i) {
    auto& b = m.bodies[i];
    btRigidBody* rb = b.rb.get();
    btTransform t = get_transform(p);
    btTransform ti = get_transform(p + 12);
    btVector3 v = get_vec(p + 24), w = get_vec(p + 27), vi = get_vec(p + 30), wi = get_vec(p + 33);
    p += kBodyFloats;
    float size = *p++;
    b.mass_scale = *p++;
    b.friction = *p++;
    for (int c = 0; c < 3; ++c) b.color[c] = *p++;
    if (size != b.size_scale) m.build_shape(static_cast<int>(i), size);
    m.apply_params(static_cast<int>(i));
    rb->setWorldTransform(t);
    rb->setInterpolationWorldTransform(ti);
    rb->setLinearVelocity(v);
    rb->setAngularVelocity(w);
    rb->setInterpolationLinearVelocity(vi);
    rb->setInterpolationAngularVelocity(wi);
    rb->clearForces();
    rb->updateInertiaTensor();
  }
  for (float& v : m.markers) v = *p++;
  for (auto& f : m.success_fired) f = static_cast<std::uint8_t>(*p++);
  m.attach();
}

}  // namespace parallax::sim
