// Scene loader: strict JSON validation into an immutable SceneModel.
//
// Every field is read through a Node (scene_node.hpp) that knows its JSON path ("bodies[2].mass");
// every object checks at the end that no key was left unread, so a typo is an error, never a
// silent default. Errors are one line: "<file>: <path>: expected <what>, found <value>". Each
// part of a scene has its own parser (scene_parsers.hpp); this file reads the top level.
//
// Before the tree is built, a pre-scan (json_prescan.hpp) refuses nesting deeper than 64 levels
// and duplicate keys. Every number must be finite as a float32 (Bullet and the renderer compute
// in float) and lie in the documented physical range of its field (kMax* in scene_node.hpp).
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "parallax/sim/scene.hpp"
#include "scene_parsers.hpp"

#ifndef PARALLAX_SOURCE_ASSETS_DIR
#define PARALLAX_SOURCE_ASSETS_DIR "assets"
#endif

namespace parallax::sim {

using namespace scene_json;

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

  if (top.has("camera")) s.camera = parse_camera(top.at("camera"));
  if (top.has("light")) s.light = parse_light(top.at("light"));

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
  if (top.has("joints")) {
    Node arr = top.at("joints");
    std::vector<int> parent_joint(s.bodies.size(), -1);
    for (std::size_t i = 0; i < arr.array_size(); ++i)
      s.joints.push_back(parse_joint(arr.at(i), s, parent_joint, i));
  }

  if (top.has("actuators")) {
    Node arr = top.at("actuators");
    for (std::size_t i = 0; i < arr.array_size(); ++i)
      s.actuators.push_back(parse_actuator(arr.at(i), s));
  }

  if (top.has("reward")) {
    Node arr = top.at("reward");
    for (std::size_t i = 0; i < arr.array_size(); ++i)
      s.reward.push_back(parse_reward(arr.at(i), s));
  }

  if (top.has("terminations")) {
    Node arr = top.at("terminations");
    for (std::size_t i = 0; i < arr.array_size(); ++i)
      s.terminations.push_back(parse_termination(arr.at(i), s));
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
