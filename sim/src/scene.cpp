// Scene loader: strict JSON validation into an immutable SceneModel.
//
// Every field is read through a Node that knows its JSON path ("bodies[2].mass"); every object
// checks at the end that no key was left unread, so a typo is an error, never a silent default.
// Errors are one line: "<file>: <path>: expected <what>, found <value>".
//
// Before the tree is built, a pre-scan (json_prescan.hpp) refuses nesting deeper than 64 levels
// and duplicate keys. Every number must be finite as a float32 (Bullet and the renderer compute
// in float) and lie in the documented physical range of its field (kMax* below).
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "json_prescan.hpp"
#include "parallax/sim/scene.hpp"

#ifndef PARALLAX_SOURCE_ASSETS_DIR
#define PARALLAX_SOURCE_ASSETS_DIR "assets"
#endif

namespace parallax::sim {

namespace {

using Json = nlohmann::json;

// Documented ranges of the schema (assets/scenes/README.md); SI units.
constexpr double kMaxCoord = 1e4;                  // |position| components, m
constexpr double kMinSize = 1e-3;                  // half extents, radii, half heights, m
constexpr double kMaxSize = 1e3;                   // m
constexpr double kMinMass = 1e-4;                  // kg (0 = static)
constexpr double kMaxMass = 1e6;                   // kg
constexpr double kMaxSpeed = 1e3;                  // m/s and rad/s
constexpr double kMaxGravity = 1e3;                // m/s^2 per component
constexpr double kMaxFriction = 100;               // dimensionless
constexpr double kMaxForce = 1e9;                  // N or N m
constexpr double kMaxWeight = 1e6;                 // reward weights and bonuses
constexpr double kMinHz = 1, kMaxHz = 1e4;         // physics_hz and control_hz
constexpr int kMinPixels = 16, kMaxPixels = 1024;  // camera width and height (the renderer's)

// "1e+04" style numbers for messages.
std::string num(double d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", d);
  return buf;
}
std::string range_text(double lo, double hi) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "[%g, %g]", lo, hi);
  return buf;
}

// At most about 60 characters of a value, without serialising all of it first: a huge array is
// not printed whole only to be cut. Depth is bounded by the pre-scan.
void brief_into(std::string& out, const Json& v) {
  constexpr std::size_t kLimit = 60;
  if (out.size() > kLimit) return;
  if (v.is_array() || v.is_object()) {
    out += v.is_array() ? '[' : '{';
    bool first = true;
    for (auto it = v.begin(); it != v.end() && out.size() <= kLimit; ++it) {
      if (!first) out += ',';
      first = false;
      if (v.is_object())
        out += Json(it.key()).dump(-1, ' ', false, Json::error_handler_t::replace) + ':';
      brief_into(out, *it);
    }
    out += v.is_array() ? ']' : '}';
  } else if (v.is_string()) {
    const auto& str = v.get_ref<const std::string&>();
    out += Json(str.substr(0, kLimit + 1)).dump(-1, ' ', false, Json::error_handler_t::replace);
  } else {
    out += v.dump();
  }
}
std::string brief(const Json& v) {
  std::string s;
  brief_into(s, v);
  if (s.size() > 60) s = s.substr(0, 57) + "...";
  return s;
}

// One JSON value with its path; objects track which keys were read.
class Node {
 public:
  Node(const Json& v, std::string path, const std::string& origin)
      : v_(v), path_(std::move(path)), origin_(origin) {}

  [[noreturn]] void fail(const std::string& expected) const {
    throw SceneError(origin_ + ": " + (path_.empty() ? "(top level)" : path_) + ": expected " +
                     expected + ", found " + brief(v_));
  }
  [[noreturn]] void fail_key(const std::string& key, const std::string& message) const {
    throw SceneError(origin_ + ": " + child_path(key) + ": " + message);
  }

  const Json& json() const { return v_; }
  const std::string& path() const { return path_; }

  bool has(const std::string& key) const {
    if (!v_.is_object()) fail("an object");
    return v_.contains(key);
  }
  Node at(const std::string& key) {
    if (!v_.is_object()) fail("an object");
    auto it = v_.find(key);
    if (it == v_.end()) fail_key(key, "required field is missing");
    used_.insert(key);
    return Node(*it, child_path(key), origin_);
  }
  Node at(std::size_t i) const {
    return Node(v_[i], path_ + "[" + std::to_string(i) + "]", origin_);
  }

  // Fails on any key that was not read (unknown fields are errors).
  void done() const {
    if (!v_.is_object()) return;
    for (auto it = v_.begin(); it != v_.end(); ++it) {
      if (!used_.count(it.key())) {
        throw SceneError(origin_ + ": " + child_path(it.key()) + ": unknown field" +
                         (known_.empty() ? "" : " (known here: " + known_ + ")"));
      }
    }
  }
  void known(std::string names) { known_ = std::move(names); }

  // ---- typed readers
  double number() const {
    if (!v_.is_number()) fail("a number");
    double d = v_.get<double>();
    if (!std::isfinite(d) || std::abs(d) > FLT_MAX) fail("a finite number within float32 range");
    return d;
  }
  double number_in(double lo, double hi, const std::string& what) const {
    double d = number();
    if (!(d >= lo && d <= hi)) fail(what);
    return d;
  }
  int integer(int lo, int hi) const {
    if (!v_.is_number_integer()) fail("an integer");
    auto i = v_.get<std::int64_t>();
    if (i < lo || i > hi)
      fail("an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
    return static_cast<int>(i);
  }
  bool boolean() const {
    if (!v_.is_boolean()) fail("true or false");
    return v_.get<bool>();
  }
  std::string string() const {
    if (!v_.is_string()) fail("a string");
    return v_.get<std::string>();
  }
  // A non-empty name without control characters (it is printed in one-line messages).
  std::string name() const {
    std::string s = string();
    if (s.empty()) fail("a non-empty name");
    for (unsigned char c : s)
      if (c < 0x20 || c == 0x7f) fail("a name without control characters");
    return s;
  }
  std::vector<double> numbers(std::size_t n) const {
    if (!v_.is_array() || v_.size() != n) fail("an array of " + std::to_string(n) + " numbers");
    std::vector<double> out(n);
    for (std::size_t i = 0; i < n; ++i) out[i] = at(i).number();
    return out;
  }
  Vec3 vec3() const {
    auto v = numbers(3);
    return {v[0], v[1], v[2]};
  }
  // Three numbers, each in [-limit, limit].
  Vec3 vec3_within(double limit, const std::string& what) const {
    Vec3 v = vec3();
    for (double x : v)
      if (!(std::abs(x) <= limit))
        fail(what + " with each component in " + range_text(-limit, limit));
    return v;
  }
  Vec3 position() const { return vec3_within(kMaxCoord, "a position (m)"); }
  Vec3 color() const {
    Vec3 c = vec3();
    for (double x : c)
      if (x < 0 || x > 1) fail("an RGB colour with each channel in [0, 1]");
    return c;
  }
  Vec3 direction() const {
    Vec3 d = vec3();
    double n = std::sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]);
    if (!(n >= 1e-6)) fail("a non-zero direction vector (norm >= 1e-6)");
    return {d[0] / n, d[1] / n, d[2] / n};
  }
  std::size_t array_size() const {
    if (!v_.is_array()) fail("an array");
    return v_.size();
  }

 private:
  std::string child_path(const std::string& raw_key) const {
    const std::string key = printable(raw_key);
    return path_.empty() ? key : path_ + "." + key;
  }
  const Json& v_;
  std::string path_;
  const std::string& origin_;
  std::set<std::string> used_;
  std::string known_;
};

double opt_unit(Node& o, const char* key, double def) {
  return o.has(key) ? o.at(key).number_in(0, 1, "a number in [0, 1]") : def;
}
// An optional number in [lo, hi]; `what` names the quantity and unit ("a speed (m/s)").
double opt_in(Node& o, const char* key, double def, double lo, double hi, const std::string& what) {
  return o.has(key) ? o.at(key).number_in(lo, hi, what + " in " + range_text(lo, hi)) : def;
}
double size_in_range(Node n) {
  return n.number_in(kMinSize, kMaxSize,
                     "a size > 0 (metres), in " + range_text(kMinSize, kMaxSize));
}

// {"low", "high"}, both in [min_low, max_high], low <= high.
Range1 read_range1(Node n, double min_low, double max_high, const std::string& what) {
  n.known("low, high");
  Range1 r;
  const std::string expected = what + " in " + range_text(min_low, max_high);
  {
    Node lo = n.at("low");
    r.low = lo.number_in(min_low, max_high, expected);
  }
  {
    Node hi = n.at("high");
    r.high = hi.number_in(min_low, max_high, expected);
    if (r.high < r.low) hi.fail("a number >= low (" + num(r.low) + ")");
  }
  n.done();
  return r;
}

Range3 read_range3(Node n, bool is_color) {
  n.known("low, high");
  Range3 r;
  r.low = is_color ? n.at("low").color() : n.at("low").position();
  Node hi = n.at("high");
  r.high = is_color ? hi.color() : hi.position();
  for (int i = 0; i < 3; ++i)
    if (r.high[i] < r.low[i]) hi.fail("each component >= the matching component of low");
  n.done();
  return r;
}

Quat quat_from_rpy_deg(const Vec3& rpy) {
  const double d2r = M_PI / 180.0;
  double cr = std::cos(rpy[0] * d2r / 2), sr = std::sin(rpy[0] * d2r / 2);
  double cp = std::cos(rpy[1] * d2r / 2), sp = std::sin(rpy[1] * d2r / 2);
  double cy = std::cos(rpy[2] * d2r / 2), sy = std::sin(rpy[2] * d2r / 2);
  // Extrinsic x, then y, then z (q = qz * qy * qx).
  return {sr * cp * cy - cr * sp * sy, cr * sp * cy + sr * cp * sy, cr * cp * sy - sr * sp * cy,
          cr * cp * cy + sr * sp * sy};
}

Shape parse_shape(Node n) {
  std::string s = n.string();
  if (s == "plane") return Shape::kPlane;
  if (s == "box") return Shape::kBox;
  if (s == "sphere") return Shape::kSphere;
  if (s == "cylinder") return Shape::kCylinder;
  if (s == "capsule") return Shape::kCapsule;
  n.fail("one of plane, box, sphere, cylinder, capsule");
}

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
  d.shape = parse_shape(b.at("shape"));
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

}  // namespace

const char* to_string(Shape s) {
  switch (s) {
    case Shape::kPlane:
      return "plane";
    case Shape::kBox:
      return "box";
    case Shape::kSphere:
      return "sphere";
    case Shape::kCylinder:
      return "cylinder";
    case Shape::kCapsule:
      return "capsule";
  }
  return "?";
}
const char* to_string(JointType t) {
  return t == JointType::kHinge ? "hinge" : "slider";
}
const char* to_string(ActuatorType t) {
  switch (t) {
    case ActuatorType::kPlanarVelocity:
      return "planar_velocity";
    case ActuatorType::kForce:
      return "force";
    case ActuatorType::kJointVelocity:
      return "joint_velocity";
    case ActuatorType::kJointTorque:
      return "joint_torque";
  }
  return "?";
}
const char* to_string(RewardType t) {
  switch (t) {
    case RewardType::kDistance:
      return "distance";
    case RewardType::kHeight:
      return "height";
    case RewardType::kJointCos:
      return "joint_cos";
    case RewardType::kContact:
      return "contact";
    case RewardType::kSuccess:
      return "success";
    case RewardType::kVelocity:
      return "velocity";
  }
  return "?";
}
const char* to_string(TerminationType t) {
  switch (t) {
    case TerminationType::kHeightBelow:
      return "height_below";
    case TerminationType::kHeightAbove:
      return "height_above";
    case TerminationType::kJointAbsAbove:
      return "joint_abs_above";
    case TerminationType::kOutOfBounds:
      return "out_of_bounds";
  }
  return "?";
}

int SceneModel::action_size() const {
  int n = 0;
  for (const auto& a : actuators) n += a.components;
  return n;
}
int SceneModel::substeps() const {
  return static_cast<int>(std::lround(physics_hz / control_hz));
}
int SceneModel::body_index(const std::string& n) const {
  for (std::size_t i = 0; i < bodies.size(); ++i)
    if (bodies[i].name == n) return static_cast<int>(i);
  return -1;
}
int SceneModel::marker_index(const std::string& n) const {
  for (std::size_t i = 0; i < markers.size(); ++i)
    if (markers[i].name == n) return static_cast<int>(i);
  return -1;
}
int SceneModel::joint_index(const std::string& n) const {
  for (std::size_t i = 0; i < joints.size(); ++i)
    if (joints[i].name == n) return static_cast<int>(i);
  return -1;
}

SceneModel parse_scene(const std::string& json_text, const std::string& origin) {
  // Depth, duplicate keys and numbers beyond double range, before the (unbounded) tree exists.
  if (std::string err = prescan_json(json_text); !err.empty())
    throw SceneError(origin + ": " + err);
  Json root;
  try {
    root = Json::parse(json_text);
  } catch (const Json::parse_error& e) {
    std::string what = e.what();
    auto p = what.find("parse error");
    throw SceneError(origin +
                     ": malformed JSON: " + (p == std::string::npos ? what : what.substr(p)));
  }
  Node top(root, "", origin);
  if (!root.is_object()) top.fail("a JSON object at the top level");
  top.known(
      "name, description, physics_hz, control_hz, episode_steps, gravity, camera, light, bodies, "
      "markers, joints, actuators, reward, terminations");
  SceneModel s;
  s.source = origin;
  s.source_json = json_text;
  { s.name = top.at("name").name(); }
  if (top.has("description")) s.description = top.at("description").string();
  // Rates: a step of at least 0.1 ms keeps float32 time and Bullet's solver meaningful, and the
  // substep count physics_hz / control_hz then fits any int.
  s.physics_hz = opt_in(top, "physics_hz", s.physics_hz, kMinHz, kMaxHz, "a rate (Hz)");
  s.control_hz = opt_in(top, "control_hz", s.control_hz, kMinHz, kMaxHz, "a rate (Hz)");
  {
    double ratio = s.physics_hz / s.control_hz;
    if (std::abs(ratio - std::round(ratio)) > 1e-9 || ratio < 1)
      top.fail_key("control_hz", "physics_hz / control_hz must be a whole number >= 1, found " +
                                     num(s.physics_hz) + " / " + num(s.control_hz));
  }
  if (top.has("episode_steps")) s.episode_steps = top.at("episode_steps").integer(1, 1000000);
  if (top.has("gravity"))
    s.gravity = top.at("gravity").vec3_within(kMaxGravity, "an acceleration (m/s^2)");

  if (top.has("camera")) {
    Node c = top.at("camera");
    c.known("eye, target, up, fov_deg, ortho_half_extent, width, height");
    if (c.has("eye")) s.camera.eye = c.at("eye").position();
    if (c.has("target")) s.camera.target = c.at("target").position();
    if (c.has("up")) s.camera.up = c.at("up").direction();
    if (c.has("fov_deg"))
      s.camera.fov_deg =
          c.at("fov_deg").number_in(1e-3, 179, "a field of view in (0, 180) degrees");
    s.camera.ortho_half_extent = opt_in(c, "ortho_half_extent", 0.0, 0, kMaxCoord, "a size (m)");
    if (c.has("width")) s.camera.width = c.at("width").integer(kMinPixels, kMaxPixels);
    if (c.has("height")) s.camera.height = c.at("height").integer(kMinPixels, kMaxPixels);
    const auto& e = s.camera.eye;
    const auto& t = s.camera.target;
    const Vec3 v{t[0] - e[0], t[1] - e[1], t[2] - e[2]};
    double d = std::sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
    if (d < 1e-6) c.fail_key("target", "must differ from eye");
    // up must not be parallel to the view direction: the image plane would be undefined (a
    // blank frame). |view x up| is the sine of the angle between them (both normalised).
    const Vec3& u = s.camera.up;
    const Vec3 x{(v[1] * u[2] - v[2] * u[1]) / d, (v[2] * u[0] - v[0] * u[2]) / d,
                 (v[0] * u[1] - v[1] * u[0]) / d};
    if (std::sqrt(x[0] * x[0] + x[1] * x[1] + x[2] * x[2]) < 1e-3) {
      c.fail_key("up", "must not be parallel to the view direction target - eye, found up [" +
                           num(u[0]) + ", " + num(u[1]) + ", " + num(u[2]) + "] and view [" +
                           num(v[0] / d) + ", " + num(v[1] / d) + ", " + num(v[2] / d) + "]");
    }
    c.done();
  }
  if (top.has("light")) {
    Node l = top.at("light");
    l.known("direction, ambient");
    if (l.has("direction")) s.light.direction = l.at("direction").direction();
    s.light.ambient = opt_unit(l, "ambient", s.light.ambient);
    l.done();
  }

  // Bodies, then markers: names are unique across both (rewards refer to either).
  std::set<std::string> names;
  {
    Node arr = top.at("bodies");
    std::size_t n = arr.array_size();
    if (n == 0) arr.fail("at least one body");
    for (std::size_t i = 0; i < n; ++i) {
      BodyDef b = parse_body(arr.at(i));
      if (!names.insert(b.name).second)
        throw SceneError(origin + ": " + arr.path() + "[" + std::to_string(i) +
                         "].name: duplicate name \"" + b.name + "\"");
      s.bodies.push_back(std::move(b));
    }
  }
  if (top.has("markers")) {
    Node arr = top.at("markers");
    for (std::size_t i = 0; i < arr.array_size(); ++i) {
      MarkerDef m = parse_marker(arr.at(i));
      if (!names.insert(m.name).second)
        throw SceneError(origin + ": " + arr.path() + "[" + std::to_string(i) +
                         "].name: duplicate name \"" + m.name + "\"");
      s.markers.push_back(std::move(m));
    }
  }
  auto is_dynamic = [&](int bi) { return s.bodies[bi].mass > 0 && !s.bodies[bi].kinematic; };
  auto body_ref = [&](Node n, bool must_be_dynamic) {
    std::string name = n.string();
    int bi = s.body_index(name);
    if (bi < 0) n.fail("the name of a body");
    if (must_be_dynamic && !is_dynamic(bi)) n.fail("a dynamic body (mass > 0, not kinematic)");
    return name;
  };

  if (top.has("joints")) {
    Node arr = top.at("joints");
    std::vector<int> parent_joint(s.bodies.size(), -1);
    for (std::size_t i = 0; i < arr.array_size(); ++i) {
      Node j = arr.at(i);
      j.known(
          "name, type, body_a, body_b, pivot, axis, limits, max_motor_force, damping, randomize");
      JointDef d;
      {
        Node n = j.at("name");
        d.name = n.name();
        if (s.joint_index(d.name) >= 0) n.fail("a unique joint name");
      }
      {
        Node n = j.at("type");
        std::string t = n.string();
        if (t == "hinge")
          d.type = JointType::kHinge;
        else if (t == "slider")
          d.type = JointType::kSlider;
        else
          n.fail("hinge or slider");
      }
      d.body_a = "world";
      if (j.has("body_a")) {
        Node n = j.at("body_a");
        d.body_a = n.string();
        if (d.body_a.empty()) d.body_a = "world";
        if (d.body_a != "world") body_ref(n, false);
      }
      {
        Node n = j.at("body_b");
        d.body_b = body_ref(n, true);
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
        parent_joint[bi] = static_cast<int>(i);
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
      s.joints.push_back(std::move(d));
    }
  }

  if (top.has("actuators")) {
    Node arr = top.at("actuators");
    for (std::size_t i = 0; i < arr.array_size(); ++i) {
      Node a = arr.at(i);
      ActuatorDef d;
      Node tn = a.at("type");
      std::string t = tn.string();
      if (t == "planar_velocity") {
        a.known("type, body, max_speed");
        d.type = ActuatorType::kPlanarVelocity;
        d.components = 2;
        Node bn = a.at("body");
        d.body = body_ref(bn, false);
        int bi = s.body_index(d.body);
        if (!s.bodies[bi].kinematic && !is_dynamic(bi)) bn.fail("a kinematic or dynamic body");
        d.max_speed = opt_in(a, "max_speed", d.max_speed, 1e-6, kMaxSpeed, "a speed (m/s)");
      } else if (t == "force") {
        a.known("type, body, axis, components, max_force");
        d.type = ActuatorType::kForce;
        d.body = body_ref(a.at("body"), true);
        if (a.has("axis") && a.has("components"))
          a.fail_key("components", "give either axis (one component) or components, not both");
        if (a.has("axis")) {
          d.axis = a.at("axis").direction();
          d.components = 1;
        } else {
          d.components = a.at("components").integer(2, 3);
        }
        d.max_force = opt_in(a, "max_force", d.max_force, 1e-6, kMaxForce, "a force (N)");
      } else if (t == "joint_velocity" || t == "joint_torque") {
        a.known(t == "joint_velocity" ? "type, joint, max_speed" : "type, joint, max_force");
        d.type = t == "joint_velocity" ? ActuatorType::kJointVelocity : ActuatorType::kJointTorque;
        d.components = 1;
        Node jn = a.at("joint");
        d.joint = jn.string();
        int ji = s.joint_index(d.joint);
        if (ji < 0) jn.fail("the name of a joint");
        if (d.type == ActuatorType::kJointVelocity) {
          if (!(s.joints[ji].max_motor_force > 0))
            jn.fail("a joint with max_motor_force > 0 (its motor drives the velocity)");
          d.max_speed =
              opt_in(a, "max_speed", d.max_speed, 1e-6, kMaxSpeed, "a speed (rad/s or m/s)");
        } else {
          d.max_force = opt_in(a, "max_force", d.max_force, 1e-6, kMaxForce, "a force (N m or N)");
        }
      } else {
        tn.fail("one of planar_velocity, force, joint_velocity, joint_torque");
      }
      a.done();
      s.actuators.push_back(std::move(d));
    }
  }

  auto point_ref = [&](Node n) {
    std::string name = n.string();
    if (s.body_index(name) < 0 && s.marker_index(name) < 0) n.fail("the name of a body or marker");
    return name;
  };
  auto weight = [](Node n) {
    return n.number_in(-kMaxWeight, kMaxWeight,
                       "a number in " + range_text(-kMaxWeight, kMaxWeight));
  };
  if (top.has("reward")) {
    Node arr = top.at("reward");
    for (std::size_t i = 0; i < arr.array_size(); ++i) {
      Node r = arr.at(i);
      RewardTerm d;
      Node tn = r.at("type");
      std::string t = tn.string();
      auto read_axes = [&] {
        if (!r.has("axes")) return;
        Node n = r.at("axes");
        std::string ax = n.string();
        d.axes = {false, false, false};
        for (char c : ax) {
          if (c < 'x' || c > 'z' || d.axes[c - 'x']) n.fail("a subset of \"xyz\" such as \"xy\"");
          d.axes[c - 'x'] = true;
        }
        if (ax.empty()) n.fail("a subset of \"xyz\" such as \"xy\"");
      };
      auto read_pair = [&] {
        Node an = r.at("a");
        d.a = point_ref(an);
        if (r.has("offset_a")) {
          if (s.body_index(d.a) < 0) r.fail_key("offset_a", "applies only when a is a body");
          d.offset_a = r.at("offset_a").position();
        }
        if (r.has("b") == r.has("point")) r.fail_key("b", "give exactly one of b or point");
        if (r.has("b"))
          d.b = point_ref(r.at("b"));
        else
          d.point = r.at("point").position();
        read_axes();
      };
      if (t == "distance") {
        r.known("type, a, offset_a, b, point, axes, weight");
        d.type = RewardType::kDistance;
        read_pair();
        d.weight = weight(r.at("weight"));
      } else if (t == "success") {
        r.known("type, a, offset_a, b, point, axes, within, bonus, terminate");
        d.type = RewardType::kSuccess;
        read_pair();
        d.within = opt_in(r, "within", d.within, 1e-6, kMaxCoord, "a distance (m)");
        d.bonus = weight(r.at("bonus"));
        if (r.has("terminate")) d.terminate = r.at("terminate").boolean();
      } else if (t == "height" || t == "velocity") {
        r.known("type, a, weight");
        d.type = t == "height" ? RewardType::kHeight : RewardType::kVelocity;
        d.a = body_ref(r.at("a"), false);
        d.weight = weight(r.at("weight"));
      } else if (t == "joint_cos") {
        r.known("type, joint, weight");
        d.type = RewardType::kJointCos;
        Node jn = r.at("joint");
        d.joint = jn.string();
        int ji = s.joint_index(d.joint);
        if (ji < 0 || s.joints[ji].type != JointType::kHinge) jn.fail("the name of a hinge joint");
        d.weight = weight(r.at("weight"));
      } else if (t == "contact") {
        r.known("type, a, b, weight");
        d.type = RewardType::kContact;
        d.a = body_ref(r.at("a"), false);
        Node bn = r.at("b");
        d.b = body_ref(bn, false);
        if (d.a == d.b) bn.fail("a body other than a");
        d.weight = weight(r.at("weight"));
      } else {
        tn.fail("one of distance, height, joint_cos, contact, success, velocity");
      }
      r.done();
      s.reward.push_back(std::move(d));
    }
  }

  if (top.has("terminations")) {
    Node arr = top.at("terminations");
    for (std::size_t i = 0; i < arr.array_size(); ++i) {
      Node t = arr.at(i);
      TerminationDef d;
      Node tn = t.at("type");
      std::string ty = tn.string();
      if (ty == "height_below" || ty == "height_above" || ty == "out_of_bounds") {
        t.known("type, body, value");
        d.type = ty == "height_below"   ? TerminationType::kHeightBelow
                 : ty == "height_above" ? TerminationType::kHeightAbove
                                        : TerminationType::kOutOfBounds;
        d.body = body_ref(t.at("body"), false);
      } else if (ty == "joint_abs_above") {
        t.known("type, joint, value");
        d.type = TerminationType::kJointAbsAbove;
        Node jn = t.at("joint");
        d.joint = jn.string();
        if (s.joint_index(d.joint) < 0) jn.fail("the name of a joint");
      } else {
        tn.fail("one of height_below, height_above, joint_abs_above, out_of_bounds");
      }
      d.value = t.at("value").number_in(
          -kMaxCoord, kMaxCoord, "a value in " + range_text(-kMaxCoord, kMaxCoord) + " (m or rad)");
      t.done();
      s.terminations.push_back(std::move(d));
    }
  }
  top.done();
  return s;
}

SceneModel load_scene(const std::filesystem::path& file) {
  const std::string origin = printable(file.string());  // one line even for a name with a newline
  std::ifstream in(file, std::ios::binary);
  if (!in) throw SceneError(origin + ": cannot open scene file (does it exist?)");
  std::stringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw SceneError(origin + ": cannot read scene file");
  SceneModel s = parse_scene(ss.str(), origin);
  s.source = file;
  return s;
}

std::filesystem::path scenes_dir() {
  if (const char* env = std::getenv("PARALLAX_ASSETS"); env && *env)
    return std::filesystem::path(env) / "scenes";
  return std::filesystem::path(PARALLAX_SOURCE_ASSETS_DIR) / "scenes";
}

std::vector<std::string> shipped_scenes() {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(scenes_dir(), ec)) {
    if (e.is_regular_file() && e.path().extension() == ".json")
      out.push_back(e.path().stem().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

SceneModel resolve_scene(const std::string& name_or_path) {
  std::filesystem::path p(name_or_path);
  bool looks_like_path = name_or_path.find('/') != std::string::npos || p.extension() == ".json";
  if (looks_like_path || std::filesystem::is_regular_file(p)) return load_scene(p);
  std::filesystem::path shipped = scenes_dir() / (name_or_path + ".json");
  if (!std::filesystem::is_regular_file(shipped)) {
    std::string known;
    for (const auto& n : shipped_scenes()) known += (known.empty() ? "" : ", ") + n;
    throw SceneError("unknown scene \"" + printable(name_or_path) +
                     "\": expected a shipped scene (" +
                     (known.empty() ? "none found in " + scenes_dir().string() : known) +
                     ") or a path to a .json file");
  }
  return load_scene(shipped);
}

}  // namespace parallax::sim
