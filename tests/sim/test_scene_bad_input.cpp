// Scene loader against hostile input (issue 8): deep nesting, duplicate keys, numbers beyond
// float32, rates out of range, degenerate directions, control characters. Each must be one
// SceneError line naming the file, the JSON path and what was expected; none may crash.
#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "sim_test_util.hpp"

using namespace parallax::sim;
using Json = nlohmann::json;

namespace {

std::string push_text() {
  std::ifstream in(std::string(PARALLAX_SOURCE_DIR) + "/assets/scenes/push.json");
  return std::string(std::istreambuf_iterator<char>(in), {});
}
Json push_json() {
  return Json::parse(push_text());
}

std::string error_of_text(const std::string& text) {
  try {
    parse_scene(text, "bad.json");
  } catch (const SceneError& e) {
    return e.what();
  }
  return "(no error)";
}

// `text` with its first occurrence of `from` replaced by `to`.
std::string replaced(std::string text, const std::string& from, const std::string& to) {
  auto p = text.find(from);
  REQUIRE(p != std::string::npos);
  return text.replace(p, from.size(), to);
}

void check_one_line(const std::string& err, const std::vector<std::string>& expect) {
  INFO(err.substr(0, 400));
  CHECK(err != "(no error)");
  CHECK(err.find('\n') == std::string::npos);
  CHECK(err.size() < 400);
  CHECK(err.rfind("bad.json: ", 0) == 0);
  for (const auto& s : expect) CHECK(err.find(s) != std::string::npos);
}

}  // namespace

TEST_CASE("scene loader: nesting 80000 levels deep is one line and no stack overflow",
          "[scene][bad-input]") {
  const std::string deep = std::string(80000, '[') + std::string(80000, ']');
  check_one_line(error_of_text(deep), {"nested deeper than 64"});
  // Inside a field that is read, and inside one that is only checked for unknown keys.
  const std::string text = push_text();
  check_one_line(error_of_text(replaced(text, "\"mass\": 0.2", "\"mass\": " + deep)),
                 {"bodies[2].mass", "nested deeper than 64"});
  check_one_line(error_of_text(replaced(text, "{", "{\"junk\": " + deep + ",")),
                 {"junk[0][0]", "nested deeper than 64"});
  // 63 levels in all (object, bodies, body, 60) are still parsed (and refused for their type, not
  // their depth).
  const std::string ok_depth = std::string(60, '[') + std::string(60, ']');
  std::string err = error_of_text(replaced(text, "\"mass\": 0.2", "\"mass\": " + ok_depth));
  check_one_line(err, {"bodies[2].mass", "expected a number"});
}

TEST_CASE("scene loader: a huge value is not printed whole in the message", "[scene][bad-input]") {
  std::string big = "[0";
  for (int i = 0; i < 300000; ++i) big += ",1";
  big += "]";
  const auto t0 = std::chrono::steady_clock::now();
  std::string err = error_of_text(replaced(push_text(), "\"mass\": 0.2", "\"mass\": " + big));
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(5));
  check_one_line(err, {"bodies[2].mass", "expected a number", "..."});
}

TEST_CASE("scene loader: duplicate keys are refused with their path", "[scene][bad-input]") {
  const std::string text = push_text();
  check_one_line(error_of_text(replaced(text, "\"mass\": 0.2", "\"mass\": -1, \"mass\": 0.2")),
                 {"bodies[2].mass", "duplicate key"});
  check_one_line(error_of_text(replaced(text, "{", "{\"name\": \"a\",")),
                 {"name", "duplicate key"});
}

TEST_CASE("scene loader: numbers beyond float32 or beyond double are refused",
          "[scene][bad-input]") {
  struct Case {
    const char* what;
    std::function<void(Json&)> edit;
    std::vector<std::string> expect;
  };
  const std::vector<Case> cases = {
      {"sphere radius 1e39",
       [](Json& j) {
         j["bodies"][1] = {{"name", "ball"}, {"shape", "sphere"}, {"radius", 1e39}, {"mass", 1}};
         j["actuators"] = Json::array();
       },
       {"bodies[1].radius", "float32"}},
      {"radius 1e5 m",
       [](Json& j) { j["bodies"][1]["radius"] = 1e5; },
       {"bodies[1].radius", "1000"}},
      {"mass 1e39", [](Json& j) { j["bodies"][2]["mass"] = 1e39; }, {"bodies[2].mass", "float32"}},
      {"mass 1e9", [](Json& j) { j["bodies"][2]["mass"] = 1e9; }, {"bodies[2].mass", "kg"}},
      {"plane normal 1e200",
       [](Json& j) {
         j["bodies"][0] = {{"name", "floor"}, {"shape", "plane"}, {"normal", {0, 0, 1e200}}};
       },
       {"bodies[0].normal[2]", "float32"}},
      {"plane normal of norm 1e-30",
       [](Json& j) {
         j["bodies"][0] = {{"name", "floor"}, {"shape", "plane"}, {"normal", {0, 0, 1e-30}}};
       },
       {"bodies[0].normal", "non-zero direction"}},
      {"joint axis 1e39",
       [](Json& j) {
         j["bodies"][2].erase("randomize");
         j["joints"] = Json::array(
             {{{"name", "j"}, {"type", "hinge"}, {"body_b", "cube"}, {"axis", {1e39, 0, 0}}}});
       },
       {"joints[0].axis[0]", "float32"}},
      {"light direction 1e39",
       [](Json& j) {
         j["light"]["direction"] = {0, 0, -1e39};
       },
       {"light.direction[2]", "float32"}},
      {"camera up 1e39",
       [](Json& j) {
         j["camera"]["up"] = {0, 1e39, 0};
       },
       {"camera.up[1]", "float32"}},
      {"position 1e20",
       [](Json& j) {
         j["bodies"][2]["position"] = {1e20, 0, 0};
       },
       {"bodies[2].position", "[-10000, 10000]"}},
      {"physics_hz 1e7", [](Json& j) { j["physics_hz"] = 1e7; }, {"physics_hz", "[1, 10000]"}},
      {"ratio 2^31",
       [](Json& j) {
         j["physics_hz"] = 2147483648.0;
         j["control_hz"] = 1;
       },
       {"physics_hz", "[1, 10000]"}},
      {"control_hz 1e-7", [](Json& j) { j["control_hz"] = 1e-7; }, {"control_hz", "[1, 10000]"}},
      {"camera up parallel to the view",
       [](Json& j) {
         j["camera"] = {{"eye", {0, 0, 2}}, {"target", {0, 0, 0}}, {"up", {0, 0, 1}}};
       },
       {"camera.up", "parallel to the view direction"}},
      {"camera up anti-parallel to the view",
       [](Json& j) {
         j["camera"] = {{"eye", {1, 1, 1}}, {"target", {0, 0, 0}}, {"up", {1, 1, 1}}};
       },
       {"camera.up", "parallel to the view direction"}},
      {"camera width 8", [](Json& j) { j["camera"]["width"] = 8; }, {"camera.width", "[16, 1024]"}},
      {"camera height 4096",
       [](Json& j) { j["camera"]["height"] = 4096; },
       {"camera.height", "[16, 1024]"}},
      {"body name with a newline",
       [](Json& j) { j["bodies"][2]["name"] = "cu\nbe"; },
       {"bodies[2].name", "control characters", "\"cu\\nbe\""}},
      {"scene name with a tab",
       [](Json& j) { j["name"] = "a\tb"; },
       {"name", "control characters"}},
      {"unknown key with a newline",
       [](Json& j) { j["bodies"][2]["ma\nss"] = 1; },
       {"bodies[2].\"ma\\nss\"", "unknown field"}},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    Json j = push_json();
    c.edit(j);
    check_one_line(error_of_text(j.dump()), c.expect);
  }
  // Beyond double: the parser's own range error, now with the file and path.
  check_one_line(error_of_text(replaced(push_text(), "\"mass\": 0.2", "\"mass\": 1e309")),
                 {"bodies[2].mass", "float32", "1e309"});
  check_one_line(error_of_text(replaced(push_text(), "[0.04, 0.04, 0.04]", "[0.04, 1e309, 0.04]")),
                 {"bodies[2].half_extents[1]", "1e309"});
}

TEST_CASE("scene loader: the documented limits themselves are accepted", "[scene]") {
  Json j = push_json();
  j["camera"]["width"] = 16;
  j["camera"]["height"] = 1024;
  j["physics_hz"] = 9600;
  j["control_hz"] = 30;
  j["bodies"][2]["mass"] = 1e-4;
  SceneModel s = parse_scene(j.dump(), "ok.json");
  CHECK(s.camera.width == 16);
  CHECK(s.camera.height == 1024);
  CHECK(s.substeps() == 320);
  for (const auto& name : shipped_scenes()) CHECK_NOTHROW(test::shipped(name));
}
