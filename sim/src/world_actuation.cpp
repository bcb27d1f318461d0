// Actuation: actions (already clamped to [-1, 1] into `scaled`) become commands held for a
// control step (motor targets, planar velocities) and forces or motions applied every physics
// step. A new actuator type is a case in each of the two switches below.
#include "world_impl.hpp"

namespace parallax::sim {

void World::Impl::command_actuators() {
  const SceneModel& sc = *scene;
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
}

void World::Impl::apply_actuators() {
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
        apply_joint_effort(j,
                           joint_axis_world(j) * (u[0] * static_cast<btScalar>(a.def->max_force)));
        break;
      }
      default:
        break;
    }
  }
}

}  // namespace parallax::sim
