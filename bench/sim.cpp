// bench_sim: control ticks/s and physics steps/s of sim::WorldBatch for each shipped scene at
// N = 1, 16, 64, 256 envs with 1 and 2 threads, and in the same run the same scene stepped by a
// bare Bullet loop (same bodies, shapes, joints and solver settings, no wrapper), printing our
// overhead as a ratio of times (goal: <= 1.10). One JSON line per measurement on stdout.
//
// Usage: bench_sim [--seconds S] [--rounds R] [--scenes a,b] [--envs 1,16] [--threads 1,2]
// Both sides run zero actions; both reset each env when its episode ends (ours: WorldBatch
// autoreset, which also clears Bullet's caches; bare: pose and velocity reset only, to the same
// randomised first state as our env i).
#include <btBulletDynamicsCommon.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "parallax/sim/scene.hpp"
#include "parallax/sim/thread_pool.hpp"
#include "parallax/sim/world_batch.hpp"

namespace {

using parallax::sim::SceneModel;
using Clock = std::chrono::steady_clock;

btVector3 bt(const std::array<double, 3>& v) {
  return btVector3(btScalar(v[0]), btScalar(v[1]), btScalar(v[2]));
}

// The scene built with plain Bullet calls, as a user without Parallax would write it.
struct BareWorld {
  btDefaultCollisionConfiguration config;
  btCollisionDispatcher dispatcher{&config};
  btDbvtBroadphase broadphase;
  btSequentialImpulseConstraintSolver solver;
  btDiscreteDynamicsWorld world{&dispatcher, &broadphase, &solver, &config};
  btRigidBody anchor{0, nullptr, nullptr};
  std::vector<std::unique_ptr<btCollisionShape>> shapes;
  std::vector<std::unique_ptr<btRigidBody>> bodies;
  std::vector<std::unique_ptr<btTypedConstraint>> joints;
  std::vector<btTransform> start;
  int steps = 0;

  // Built directly at `poses` ([K, 7] f32, e.g. our env i's randomised first state), so that both
  // sides simulate the same configurations; joint frames come from the file's nominal poses.
  BareWorld(const SceneModel& s, const std::vector<float>& poses) {
    config.setPlaneConvexMultipointIterations(3, 3);
    world.setGravity(bt(s.gravity));
    world.getSolverInfo().m_numIterations = 20;
    world.getSolverInfo().m_splitImpulse = 1;
    world.getSolverInfo().m_splitImpulsePenetrationThreshold = 0;
    for (const auto& b : s.bodies) {
      std::unique_ptr<btCollisionShape> shape;
      using parallax::sim::Shape;
      switch (b.shape) {
        case Shape::kPlane:
          shape = std::make_unique<btStaticPlaneShape>(bt(b.plane_normal), 0);
          break;
        case Shape::kBox:
          shape = std::make_unique<btBoxShape>(bt(b.half_extents));
          break;
        case Shape::kSphere:
          shape = std::make_unique<btSphereShape>(btScalar(b.radius));
          break;
        case Shape::kCylinder:
          shape = std::make_unique<btCylinderShapeZ>(
              btVector3(btScalar(b.radius), btScalar(b.radius), btScalar(b.half_height)));
          break;
        case Shape::kCapsule:
          shape =
              std::make_unique<btCapsuleShapeZ>(btScalar(b.radius), btScalar(2 * b.half_height));
          break;
      }
      if (b.shape == Shape::kBox || b.shape == Shape::kCylinder) shape->setMargin(0.003f);
      bool dynamic = b.mass > 0 && !b.kinematic;
      btScalar mass = dynamic ? btScalar(b.mass) : 0;
      btVector3 inertia(0, 0, 0);
      if (dynamic) shape->calculateLocalInertia(mass, inertia);
      const float* p = &poses[bodies.size() * 7];
      btTransform t(btQuaternion(p[3], p[4], p[5], p[6]), btVector3(p[0], p[1], p[2]));
      auto rb = std::make_unique<btRigidBody>(mass, nullptr, shape.get(), inertia);
      rb->setWorldTransform(t);
      rb->setFriction(btScalar(b.friction));
      rb->setRestitution(btScalar(b.restitution));
      rb->setRollingFriction(btScalar(b.rolling_friction));
      rb->setDamping(btScalar(b.linear_damping), btScalar(b.angular_damping));
      if (b.kinematic) {
        rb->setCollisionFlags((rb->getCollisionFlags() & ~btCollisionObject::CF_STATIC_OBJECT) |
                              btCollisionObject::CF_KINEMATIC_OBJECT);
      }
      world.addRigidBody(rb.get());
      if (!(b.mass == 0 && !b.kinematic)) rb->forceActivationState(DISABLE_DEACTIVATION);
      start.push_back(t);
      shapes.push_back(std::move(shape));
      bodies.push_back(std::move(rb));
    }
    for (const auto& j : s.joints) {
      btRigidBody* a = j.body_a == "world" ? &anchor : bodies[s.body_index(j.body_a)].get();
      btRigidBody* b = bodies[s.body_index(j.body_b)].get();
      btVector3 axis = bt(j.axis), p, q;
      btPlaneSpace1(axis, p, q);
      bool slider = j.type == parallax::sim::JointType::kSlider;
      btMatrix3x3 basis =
          slider
              ? btMatrix3x3(axis.x(), p.x(), q.x(), axis.y(), p.y(), q.y(), axis.z(), p.z(), q.z())
              : btMatrix3x3(p.x(), q.x(), axis.x(), p.y(), q.y(), axis.y(), p.z(), q.z(), axis.z());
      btTransform f(basis, bt(j.pivot));
      auto nominal = [&](const std::string& name) {
        if (name == "world") return btTransform::getIdentity();
        const auto& d = s.bodies[s.body_index(name)];
        return btTransform(btQuaternion(btScalar(d.orientation[0]), btScalar(d.orientation[1]),
                                        btScalar(d.orientation[2]), btScalar(d.orientation[3])),
                           bt(d.position));
      };
      btTransform fa = nominal(j.body_a).inverse() * f;
      btTransform fb = nominal(j.body_b).inverse() * f;
      std::unique_ptr<btTypedConstraint> c;
      if (slider) {
        auto sc = std::make_unique<btSliderConstraint>(*a, *b, fa, fb, true);
        sc->setLowerAngLimit(0), sc->setUpperAngLimit(0);
        if (j.limits)
          sc->setLowerLinLimit(btScalar(j.limits->low)),
              sc->setUpperLinLimit(btScalar(j.limits->high));
        c = std::move(sc);
      } else {
        auto hc = std::make_unique<btHingeConstraint>(*a, *b, fa, fb, true);
        if (j.limits) hc->setLimit(btScalar(j.limits->low), btScalar(j.limits->high));
        c = std::move(hc);
      }
      world.addConstraint(c.get(), true);
      joints.push_back(std::move(c));
    }
    // Zero actions still drive velocity motors (to target 0), as ours do.
    for (const auto& a : s.actuators) {
      if (a.type != parallax::sim::ActuatorType::kJointVelocity) continue;
      const int ji = s.joint_index(a.joint);
      const btScalar fmax = btScalar(s.joints[ji].max_motor_force);
      if (auto* h = dynamic_cast<btHingeConstraint*>(joints[ji].get()))
        h->enableAngularMotor(true, 0, fmax / btScalar(s.physics_hz));
      if (auto* sl = dynamic_cast<btSliderConstraint*>(joints[ji].get())) {
        sl->setPoweredLinMotor(true);
        sl->setTargetLinMotorVelocity(0);
        sl->setMaxLinMotorForce(fmax);
      }
    }
  }
  ~BareWorld() {
    for (auto& c : joints) world.removeConstraint(c.get());
    for (auto& b : bodies) world.removeRigidBody(b.get());
  }
  void reset() {
    for (std::size_t i = 0; i < bodies.size(); ++i) {
      bodies[i]->setWorldTransform(start[i]);
      bodies[i]->setLinearVelocity(btVector3(0, 0, 0));
      bodies[i]->setAngularVelocity(btVector3(0, 0, 0));
    }
    steps = 0;
  }
};

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string item; std::getline(ss, item, ',');) out.push_back(item);
  return out;
}

// Runs `tick` in rounds until `seconds` have passed; returns ticks per second.
template <typename F>
double rate(double seconds, int per_round, F&& tick) {
  for (int i = 0; i < 3; ++i) tick();  // warm-up
  long done = 0;
  const auto t0 = Clock::now();
  double elapsed = 0;
  do {
    for (int i = 0; i < per_round; ++i) tick();
    done += per_round;
    elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
  } while (elapsed < seconds);
  return static_cast<double>(done) / elapsed;
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 0.5;  // per measurement and side, split into `rounds`
  int rounds = 5;
  std::vector<std::string> scenes = {"push", "billiards", "tower", "cartpole", "reacher"};
  std::vector<int> env_counts = {1, 16, 64, 256}, thread_counts = {1, 2};
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--seconds")
      seconds = std::atof(v.c_str());
    else if (k == "--rounds")
      rounds = std::max(1, std::atoi(v.c_str()));
    else if (k == "--scenes")
      scenes = split(v);
    else if (k == "--envs" || k == "--threads") {
      std::vector<int> xs;
      for (const auto& x : split(v)) xs.push_back(std::atoi(x.c_str()));
      (k == "--envs" ? env_counts : thread_counts) = xs;
    } else {
      std::fprintf(stderr, "bench_sim: unknown option %s\n", k.c_str());
      return 2;
    }
  }
  for (const auto& name : scenes) {
    auto scene = std::make_shared<const SceneModel>(parallax::sim::resolve_scene(name));
    const int substeps = scene->substeps();
    const btScalar dt = btScalar(1.0 / scene->physics_hz);
    for (int n : env_counts) {
      for (int threads : thread_counts) {
        // Ours.
        parallax::sim::WorldBatch batch(scene, n, 0, threads);
        std::vector<float> zeros(static_cast<std::size_t>(n * batch.action_size()), 0.0f);
        // Bare: the same envs in the same static chunks on the same kind of thread pool (the pool
        // is not what we measure: both sides pay it; threads == 1 runs inline on both).
        std::vector<std::unique_ptr<BareWorld>> bare;
        std::vector<float> poses(scene->bodies.size() * 7);  // [K, 7] f32
        for (int i = 0; i < n; ++i) {
          parallax::sim::World(scene, static_cast<std::uint64_t>(i)).poses(poses);
          bare.push_back(std::make_unique<BareWorld>(*scene, poses));
        }
        parallax::sim::ThreadPool pool(threads);
        const parallax::sim::ThreadPool::Task bare_task = [&](int b, int e, int) {
          for (int i = b; i < e; ++i) {
            BareWorld& w = *bare[i];
            if (w.steps >= scene->episode_steps) w.reset();
            for (int s = 0; s < substeps; ++s) w.world.stepSimulation(dt, 0, dt);
            ++w.steps;
          }
        };
        // Interleaved rounds, best rate of each side: other load on the machine hits both.
        double ours = 0, bare_rate = 0;
        for (int round = 0; round < rounds; ++round) {
          ours = std::max(ours, rate(seconds / rounds, 2, [&] { batch.step(zeros); }));
          bare_rate = std::max(bare_rate,
                               rate(seconds / rounds, 2, [&] { pool.parallel_for(n, bare_task); }));
        }
        nlohmann::json j = {{"bench", "sim"},
                            {"scene", name},
                            {"envs", n},
                            {"threads", threads},
                            {"substeps", substeps},
                            {"control_ticks_per_s", ours * n},
                            {"physics_steps_per_s", ours * n * substeps},
                            {"bare_control_ticks_per_s", bare_rate * n},
                            {"overhead_ratio", bare_rate / ours}};
        std::printf("%s\n", j.dump().c_str());
        std::fflush(stdout);
      }
    }
  }
  return 0;
}
