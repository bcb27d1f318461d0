// The scene loader's JSON reader: a Node is one JSON value with its path ("bodies[2].mass"); it
// reads typed values within documented ranges and, for objects, checks at the end that no key
// was left unread. Errors are one line: "<file>: <path>: expected <what>, found <value>".
#pragma once

#include <cfloat>
#include <cmath>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "json_prescan.hpp"
#include "parallax/sim/scene.hpp"

namespace parallax::sim::scene_json {

using Json = nlohmann::json;

// Documented ranges of the schema (assets/scenes/README.md); SI units.
inline constexpr double kMaxCoord = 1e4;           // |position| components, m
inline constexpr double kMinSize = 1e-3;           // half extents, radii, half heights, m
inline constexpr double kMaxSize = 1e3;            // m
inline constexpr double kMinMass = 1e-4;           // kg (0 = static)
inline constexpr double kMaxMass = 1e6;            // kg
inline constexpr double kMaxSpeed = 1e3;           // m/s and rad/s
inline constexpr double kMaxGravity = 1e3;         // m/s^2 per component
inline constexpr double kMaxFriction = 100;        // dimensionless
inline constexpr double kMaxForce = 1e9;           // N or N m
inline constexpr double kMaxWeight = 1e6;          // reward weights and bonuses
inline constexpr double kMinHz = 1, kMaxHz = 1e4;  // physics_hz and control_hz
inline constexpr int kMinPixels = 16,
                     kMaxPixels = 1024;  // camera width and height (the renderer's)

// "1e+04" style numbers for messages.
std::string num(double d);
std::string range_text(double lo, double hi);
// At most about 60 characters of a value, for messages.
std::string brief(const Json& v);

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

double opt_unit(Node& o, const char* key, double def);
// An optional number in [lo, hi]; `what` names the quantity and unit ("a speed (m/s)").
double opt_in(Node& o, const char* key, double def, double lo, double hi, const std::string& what);
double size_in_range(Node n);
// {"low", "high"}, both in [min_low, max_high], low <= high.
Range1 read_range1(Node n, double min_low, double max_high, const std::string& what);
Range3 read_range3(Node n, bool is_color);

}  // namespace parallax::sim::scene_json
