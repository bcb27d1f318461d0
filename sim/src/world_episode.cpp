// Episodes: reset draws the scene's randomisation from a seed and places every body; attach /
// detach drop every cache Bullet keeps between steps (see world_impl.hpp on determinism).
#include "world_impl.hpp"

#include <cassert>
#include <cmath>

namespace parallax::sim {

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

}  // namespace parallax::sim
