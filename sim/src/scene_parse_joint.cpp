// Joints (hinges and sliders) of a scene file.
#include <cmath>

#include "scene_enums.hpp"
#include "scene_parsers.hpp"

namespace parallax::sim::scene_json {

JointDef parse_joint(Node j, const SceneModel& s, std::vector<int>& parent_joint,
                     std::size_t index) {
  j.known("name, type, body_a, body_b, pivot, axis, limits, max_motor_force, damping, randomize");
  JointDef d;
  {
    Node n = j.at("name");
    d.name = n.name();
    if (s.joint_index(d.name) >= 0) n.fail("a unique joint name");
  }
  {
    Node n = j.at("type");
    auto type = from_name(kJointTypeNames, n.string());
    if (!type) n.fail(expected_names(kJointTypeNames));
    d.type = *type;
  }
  d.body_a = "world";
  if (j.has("body_a")) {
    Node n = j.at("body_a");
    d.body_a = n.string();
    if (d.body_a.empty()) d.body_a = "world";
    if (d.body_a != "world") body_ref(n, s, false);
  }
  {
    Node n = j.at("body_b");
    d.body_b = body_ref(n, s, true);
    if (d.body_b == d.body_a) n.fail("a body other than body_a");
    int bi = s.body_index(d.body_b);
    if (parent_joint[bi] >= 0) n.fail("a body that is not already body_b of another joint");
    const BodyRandomize& r = s.bodies[bi].randomize;
    if (r.position || r.yaw_deg)
      n.fail(
          "a body without a randomised pose (body_b follows its joint; randomise the "
          "joint position instead)");
    // No cycles: walking up from body_a must not reach body_b.
    for (int cur = s.body_index(d.body_a); cur >= 0;) {
      if (cur == bi) n.fail("a body that does not close a loop of joints");
      int pj = parent_joint[cur];
      cur = pj < 0 ? -1 : s.body_index(s.joints[pj].body_a);
    }
    parent_joint[bi] = static_cast<int>(index);
  }
  if (j.has("pivot")) d.pivot = j.at("pivot").position();
  d.axis = j.at("axis").direction();
  if (j.has("limits")) {
    Range1 r = read_range1(j.at("limits"), -kMaxCoord, kMaxCoord, "a limit (rad or m)");
    if (d.type == JointType::kHinge && (r.low < -M_PI || r.high > M_PI))
      j.fail_key("limits", "hinge limits must lie in [-pi, pi] radians");
    d.limits = r;
  }
  d.max_motor_force = opt_in(j, "max_motor_force", 0.0, 0, kMaxForce, "a force (N or N m)");
  d.damping = opt_in(j, "damping", 0.0, 0, kMaxForce, "a damping (N s/m or N m s/rad)");
  if (j.has("randomize")) {
    Node r = j.at("randomize");
    r.known("position");
    d.randomize_position =
        read_range1(r.at("position"), -kMaxCoord, kMaxCoord, "a position (rad or m)");
    r.done();
  }
  j.done();
  return d;
}

}  // namespace parallax::sim::scene_json
