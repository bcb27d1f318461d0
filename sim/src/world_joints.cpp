// Joints: position, velocity and axis of a hinge or slider, efforts along it, and damping.
#include "world_impl.hpp"

namespace parallax::sim {

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

void World::Impl::apply_joint_damping() {
  const SceneModel& sc = *scene;
  for (std::size_t ji = 0; ji < joints.size(); ++ji) {
    double c = sc.joints[ji].damping;
    if (c <= 0) continue;
    const Joint& j = joints[ji];
    apply_joint_effort(j, joint_axis_world(j) * static_cast<btScalar>(-c * joint_velocity(j)));
  }
}

}  // namespace parallax::sim
