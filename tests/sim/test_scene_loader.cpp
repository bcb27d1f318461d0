// Scene loader: every bad input is one clear SceneError naming file, JSON path, value, expectation.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "sim_test_util.hpp"

using namespace parallax::sim;
using namespace parallax::sim::test;
using Json = nlohmann::json;

namespace {

// The shipped push scene as JSON, to be broken one field at a time.
Json push_json() {
  std::ifstream in(std::string(PARALLAX_SOURCE_DIR) + "/assets/scenes/push.json");
  return Json::parse(in);
}

std::string error_of(const Json& j) {
  try {
    parse_scene(j.dump(), "bad.json");
  } catch (const SceneError& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("scene loader: the shipped push scene parses with the documented values", "[scene]") {
  auto s = shipped("push");
  CHECK(s->physics_hz == 240);
  CHECK(s->control_hz == 30);
  CHECK(s->substeps() == 8);
  CHECK(s->episode_steps == 150);
  REQUIRE(s->bodies.size() == 3);
  CHECK(s->bodies[2].name == "cube");
  CHECK(s->bodies[2].shape == Shape::kBox);
  CHECK(s->bodies[2].mass == 0.2);
  CHECK(s->bodies[1].kinematic);
  REQUIRE(s->bodies[2].randomize.yaw_deg);
  CHECK(s->bodies[2].randomize.yaw_deg->low == -45);
  CHECK(s->action_size() == 2);
  CHECK(s->reward.size() == 2);
  CHECK(s->reward[0].axes == std::array<bool, 3>{true, true, false});
  CHECK(s->body_index("cube") == 2);
  CHECK(s->marker_index("goal") == 0);
  CHECK(s->source_json.find("\"push\"") != std::string::npos);
}

TEST_CASE("scene loader: bad fields name the file and JSON path and value and expectation",
          "[scene][bad-input]") {
  struct Case {
    const char* what;
    std::function<void(Json&)> edit;
    std::vector<std::string> expect;  // substrings of the error line
  };
  std::vector<Case> cases = {
      {"negative mass",
       [](Json& j) { j["bodies"][2]["mass"] = -1; },
       {"bad.json", "bodies[2].mass", "-1", "mass >= 0"}},
      {"negative size",
       [](Json& j) { j["bodies"][2]["half_extents"][1] = -0.1; },
       {"bodies[2].half_extents", "-0.1", "> 0"}},
      {"zero radius",
       [](Json& j) { j["bodies"][1]["radius"] = 0; },
       {"bodies[1].radius", "size > 0"}},
      {"wrong type",
       [](Json& j) { j["bodies"][2]["mass"] = "heavy"; },
       {"bodies[2].mass", "\"heavy\"", "a number"}},
      {"unknown shape",
       [](Json& j) { j["bodies"][2]["shape"] = "cone"; },
       {"bodies[2].shape", "cone", "one of plane, box"}},
      {"unknown field",
       [](Json& j) { j["bodies"][2]["mas"] = 1; },
       {"bodies[2].mas", "unknown field"}},
      {"unknown top-level field",
       [](Json& j) { j["episode_step"] = 10; },
       {"episode_step", "unknown field"}},
      {"NaN in a pose",
       [](Json& j) { j["bodies"][2]["position"][0] = NAN; },
       {"bodies[2].position[0]", "a number"}},
      {"non-unit quaternion",
       [](Json& j) {
         j["bodies"][2]["orientation"] = {0, 0, 0, 2};
       },
       {"bodies[2].orientation", "unit quaternion"}},
      {"field of another shape",
       [](Json& j) { j["bodies"][2]["radius"] = 0.1; },
       {"bodies[2].radius", "does not apply to shape box"}},
      {"missing shape",
       [](Json& j) { j["bodies"][2].erase("shape"); },
       {"bodies[2].shape", "missing"}},
      {"reward names an unknown body",
       [](Json& j) { j["reward"][0]["a"] = "ghost"; },
       {"reward[0].a", "ghost", "body or marker"}},
      {"bad rates", [](Json& j) { j["control_hz"] = 7; }, {"control_hz", "whole number"}},
      {"restitution above 1",
       [](Json& j) { j["bodies"][2]["restitution"] = 1.5; },
       {"bodies[2].restitution", "[0, 1]"}},
      {"colour out of range",
       [](Json& j) {
         j["bodies"][2]["color"] = {1.2, 0, 0};
       },
       {"bodies[2].color", "[0, 1]"}},
      {"randomise low > high",
       [](Json& j) {
         j["bodies"][2]["randomize"]["yaw_deg"] = {{"low", 5}, {"high", 1}};
       },
       {"bodies[2].randomize.yaw_deg.high", ">= low"}},
      {"duplicate name",
       [](Json& j) { j["bodies"][2]["name"] = "pusher"; },
       {"bodies[2].name", "duplicate"}},
      {"actuator on a static body",
       [](Json& j) { j["actuators"][0]["body"] = "table"; },
       {"actuators[0].body", "kinematic or dynamic"}},
      {"episode_steps 0", [](Json& j) { j["episode_steps"] = 0; }, {"episode_steps", "[1,"}},
      {"joint child with a randomised pose",
       [](Json& j) {
         j["joints"] = Json::array(
             {{{"name", "j"}, {"type", "hinge"}, {"body_b", "cube"}, {"axis", {0, 0, 1}}}});
       },
       {"joints[0].body_b", "randomise the joint position"}},
      {"camera resolution",
       [](Json& j) { j["camera"]["width"] = 64.5; },
       {"camera.width", "an integer"}},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    Json j = push_json();
    c.edit(j);
    std::string err = error_of(j);
    INFO(err);
    CHECK(err.find('\n') == std::string::npos);  // one line
    for (const auto& s : c.expect) CHECK(err.find(s) != std::string::npos);
  }
}

TEST_CASE("scene loader: malformed JSON or a missing file or an unknown scene name",
          "[scene][bad-input]") {
  CHECK_THROWS_WITH(parse_scene("{\"name\": \"x\", ", "broken.json"),
                    Catch::Contains("broken.json") && Catch::Contains("malformed JSON"));
  CHECK_THROWS_WITH(parse_scene("[1, 2]", "arr.json"), Catch::Contains("a JSON object"));
  CHECK_THROWS_WITH(load_scene("/nonexistent/scene.json"),
                    Catch::Contains("/nonexistent/scene.json") && Catch::Contains("cannot open"));
  CHECK_THROWS_WITH(resolve_scene("no_such_scene"),
                    Catch::Contains("no_such_scene") && Catch::Contains("push"));
}

TEST_CASE("scene loader: a scene file given by path works like a shipped one", "[scene]") {
  auto tmp = std::filesystem::temp_directory_path() / "parallax_test_scene_copy.json";
  std::filesystem::copy_file(std::string(PARALLAX_SOURCE_DIR) + "/assets/scenes/push.json", tmp,
                             std::filesystem::copy_options::overwrite_existing);
  SceneModel by_path = resolve_scene(tmp.string());
  SceneModel by_name = resolve_scene("push");
  std::filesystem::remove(tmp);
  CHECK(by_path.name == by_name.name);
  World a(std::make_shared<const SceneModel>(by_path), 1);
  World b(std::make_shared<const SceneModel>(by_name), 1);
  CHECK(poses_of(a) == poses_of(b));
}

TEST_CASE("scenes_dir honours PARALLAX_ASSETS", "[scene]") {
  const char* old = std::getenv("PARALLAX_ASSETS");
  std::string saved = old ? old : "";
  setenv("PARALLAX_ASSETS", "/tmp/somewhere", 1);
  CHECK(scenes_dir() == std::filesystem::path("/tmp/somewhere/scenes"));
  if (old)
    setenv("PARALLAX_ASSETS", saved.c_str(), 1);
  else
    unsetenv("PARALLAX_ASSETS");
}
