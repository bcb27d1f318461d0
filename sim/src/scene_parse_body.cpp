// Bodies (shape, dimensions, mass, material, pose, randomisation) and markers of a scene file.
#include <cmath>

#include "scene_enums.hpp"
#include "scene_parsers.hpp"

namespace parallax::sim::scene_json {

namespace {

Quat quat_from_rpy_deg(const Vec3& rpy) {
  const double d2r = M_PI / 180.0;
  double cr = std::cos(rpy[0] * d2r / 2), sr = std::sin(rpy[0] * d2r / 2);
  double cp = std::cos(rpy[1] * d2r / 2), sp = std::sin(rpy[1] * d2r / 2);
  double cy = std::cos(rpy[2] * d2r / 2), sy = std::sin(rpy[2] * d2r / 2);
  // Extrinsic x, then y, then z (q = qz * qy * qx).
  return {sr * cp * cy - cr * sp * sy, cr * sp * cy + sr * cp * sy, cr * cp * sy - sr * sp * cy,
          cr * cp * cy + sr * sp * sy};
}

}  // namespace

BodyDef parse_body(Node b) {
  b.known(
      "name, description, shape, half_extents, radius, half_height, normal, mass, kinematic, "
      "friction, rolling_friction, restitution, linear_damping, angular_damping, margin, color, "
      "position, orientation, rpy_deg, linear_velocity, angular_velocity, randomize");
  BodyDef d;
  {
    Node n = b.at("name");
    d.name = n.name();
    if (d.name == "world") n.fail("a name other than \"world\"");
  }
  if (b.has("description")) b.at("description").string();
  {
    Node n = b.at("shape");
    auto shape = from_name(kShapeNames, n.string());
    if (!shape) n.fail(expected_names(kShapeNames));
    d.shape = *shape;
  }
  // Dimensions: only those of this shape are allowed.
  auto forbid = [&](const char* key) {
    if (b.has(key))
      b.fail_key(key, std::string("field does not apply to shape ") + to_string(d.shape));
  };
  auto positive = [&](const char* key) { return size_in_range(b.at(key)); };
  switch (d.shape) {
    case Shape::kBox: {
      Node n = b.at("half_extents");
      d.half_extents = n.vec3();
      for (double h : d.half_extents)
        if (!(h >= kMinSize && h <= kMaxSize))
          n.fail("three half extents > 0, each in " + range_text(kMinSize, kMaxSize) + " m");
      forbid("radius"), forbid("half_height"), forbid("normal");
      break;
    }
    case Shape::kSphere:
      d.radius = positive("radius");
      forbid("half_extents"), forbid("half_height"), forbid("normal");
      break;
    case Shape::kCylinder:
    case Shape::kCapsule:
      d.radius = positive("radius");
      d.half_height = positive("half_height");
      forbid("half_extents"), forbid("normal");
      break;
    case Shape::kPlane:
      if (b.has("normal")) d.plane_normal = b.at("normal").direction();
      forbid("half_extents"), forbid("radius"), forbid("half_height");
      break;
  }
  if (b.has("mass")) {
    Node n = b.at("mass");
    d.mass = n.number();
    if (!(d.mass >= 0)) n.fail("a mass >= 0 (kg; 0 = static)");
    if (d.mass != 0 && !(d.mass >= kMinMass && d.mass <= kMaxMass))
      n.fail("0 (static) or a mass in " + range_text(kMinMass, kMaxMass) + " kg");
    if (d.shape == Shape::kPlane && d.mass != 0) n.fail("0 (a plane is always static)");
  }
  if (b.has("kinematic")) {
    Node n = b.at("kinematic");
    d.kinematic = n.boolean();
    if (d.kinematic && d.shape == Shape::kPlane) n.fail("false (a plane cannot be kinematic)");
    if (d.kinematic && d.mass != 0) n.fail("false, or mass 0 (a kinematic body has no mass)");
  }
  d.friction = opt_in(b, "friction", d.friction, 0, kMaxFriction, "a friction coefficient");
  d.rolling_friction =
      opt_in(b, "rolling_friction", d.rolling_friction, 0, kMaxFriction, "a friction coefficient");
  d.restitution = opt_unit(b, "restitution", d.restitution);
  d.linear_damping = opt_unit(b, "linear_damping", d.linear_damping);
  d.angular_damping = opt_unit(b, "angular_damping", d.angular_damping);
  if (b.has("margin")) d.margin = opt_in(b, "margin", 0.0, 1e-5, 1, "a margin (m)");
  if (b.has("color")) d.color = b.at("color").color();
  if (b.has("position")) d.position = b.at("position").position();
  if (b.has("orientation") && b.has("rpy_deg"))
    b.fail_key("rpy_deg", "give either orientation or rpy_deg, not both");
  if (b.has("orientation")) {
    Node n = b.at("orientation");
    auto q = n.numbers(4);
    double norm = std::sqrt(q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3]);
    if (std::abs(norm - 1.0) > 1e-3) n.fail("a unit quaternion [x, y, z, w]");
    d.orientation = {q[0] / norm, q[1] / norm, q[2] / norm, q[3] / norm};
  }
  if (b.has("rpy_deg"))
    d.orientation = quat_from_rpy_deg(b.at("rpy_deg").vec3_within(3600, "angles (degrees)"));
  if (b.has("linear_velocity"))
    d.linear_velocity = b.at("linear_velocity").vec3_within(kMaxSpeed, "a velocity (m/s)");
  if (b.has("angular_velocity"))
    d.angular_velocity =
        b.at("angular_velocity").vec3_within(kMaxSpeed, "an angular velocity (rad/s)");
  if (b.has("randomize")) {
    Node r = b.at("randomize");
    r.known("position, yaw_deg, size_scale, mass_scale, friction, color");
    if (!r.json().is_object()) r.fail("an object");
    if (r.has("position")) d.randomize.position = read_range3(r.at("position"), false);
    if (r.has("yaw_deg"))
      d.randomize.yaw_deg = read_range1(r.at("yaw_deg"), -3600, 3600, "an angle (degrees)");
    if (r.has("size_scale"))
      d.randomize.size_scale = read_range1(r.at("size_scale"), 1e-2, 1e2, "a scale");
    if (r.has("mass_scale"))
      d.randomize.mass_scale = read_range1(r.at("mass_scale"), 1e-2, 1e2, "a scale");
    if (r.has("friction"))
      d.randomize.friction = read_range1(r.at("friction"), 0.0, kMaxFriction, "a friction");
    if (r.has("color")) d.randomize.color = read_range3(r.at("color"), true);
    r.done();
    bool is_static = d.mass == 0 && !d.kinematic;
    if (is_static && (d.randomize.position || d.randomize.yaw_deg))
      b.fail_key("randomize", "a static body's pose cannot be randomised (give it a mass)");
    if (d.shape == Shape::kPlane && d.randomize.size_scale)
      b.fail_key("randomize.size_scale", "a plane has no size");
  }
  b.done();
  return d;
}

MarkerDef parse_marker(Node m) {
  m.known("name, shape, radius, color, position, randomize");
  MarkerDef d;
  {
    Node n = m.at("name");
    d.name = n.name();
    if (d.name == "world") n.fail("a name other than \"world\"");
  }
  if (m.has("shape")) {
    Node n = m.at("shape");
    if (n.string() != "disc") n.fail("\"disc\" (the only marker shape)");
  }
  if (m.has("radius")) d.radius = size_in_range(m.at("radius"));
  if (m.has("color")) d.color = m.at("color").color();
  if (m.has("position")) d.position = m.at("position").position();
  if (m.has("randomize")) {
    Node r = m.at("randomize");
    r.known("position");
    d.randomize_position = read_range3(r.at("position"), false);
    r.done();
  }
  m.done();
  return d;
}

bool is_dynamic(const SceneModel& s, int body) {
  return s.bodies[body].mass > 0 && !s.bodies[body].kinematic;
}

std::string body_ref(Node n, const SceneModel& s, bool must_be_dynamic) {
  std::string name = n.string();
  int bi = s.body_index(name);
  if (bi < 0) n.fail("the name of a body");
  if (must_be_dynamic && !is_dynamic(s, bi)) n.fail("a dynamic body (mass > 0, not kinematic)");
  return name;
}

}  // namespace parallax::sim::scene_json
