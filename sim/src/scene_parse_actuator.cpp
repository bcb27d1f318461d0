// Actuators of a scene file: how action components drive bodies and joints.
#include "scene_enums.hpp"
#include "scene_parsers.hpp"

namespace parallax::sim::scene_json {

ActuatorDef parse_actuator(Node a, const SceneModel& s) {
  ActuatorDef d;
  Node tn = a.at("type");
  auto type = from_name(kActuatorTypeNames, tn.string());
  if (!type) tn.fail(expected_names(kActuatorTypeNames));
  d.type = *type;
  switch (d.type) {
    case ActuatorType::kPlanarVelocity: {
      a.known("type, body, max_speed");
      d.components = 2;
      Node bn = a.at("body");
      d.body = body_ref(bn, s, false);
      int bi = s.body_index(d.body);
      if (!s.bodies[bi].kinematic && !is_dynamic(s, bi)) bn.fail("a kinematic or dynamic body");
      d.max_speed = opt_in(a, "max_speed", d.max_speed, 1e-6, kMaxSpeed, "a speed (m/s)");
      break;
    }
    case ActuatorType::kForce:
      a.known("type, body, axis, components, max_force");
      d.body = body_ref(a.at("body"), s, true);
      if (a.has("axis") && a.has("components"))
        a.fail_key("components", "give either axis (one component) or components, not both");
      if (a.has("axis")) {
        d.axis = a.at("axis").direction();
        d.components = 1;
      } else {
        d.components = a.at("components").integer(2, 3);
      }
      d.max_force = opt_in(a, "max_force", d.max_force, 1e-6, kMaxForce, "a force (N)");
      break;
    case ActuatorType::kJointVelocity:
    case ActuatorType::kJointTorque: {
      const bool velocity = d.type == ActuatorType::kJointVelocity;
      a.known(velocity ? "type, joint, max_speed" : "type, joint, max_force");
      d.components = 1;
      Node jn = a.at("joint");
      d.joint = jn.string();
      int ji = s.joint_index(d.joint);
      if (ji < 0) jn.fail("the name of a joint");
      if (velocity) {
        if (!(s.joints[ji].max_motor_force > 0))
          jn.fail("a joint with max_motor_force > 0 (its motor drives the velocity)");
        d.max_speed =
            opt_in(a, "max_speed", d.max_speed, 1e-6, kMaxSpeed, "a speed (rad/s or m/s)");
      } else {
        d.max_force = opt_in(a, "max_force", d.max_force, 1e-6, kMaxForce, "a force (N m or N)");
      }
      break;
    }
  }
  a.done();
  return d;
}

}  // namespace parallax::sim::scene_json
