// The dream planner's edge guard (DreamPlanModel::set_edge_guard): no imagined success where the
// frame cannot confirm it. References: push's reward written out by hand on the cube the finder
// reads in the root frame (a still model imagines that frame at every step), with the goal put
// on the cube so that the success term fires at once without the guard; with the edge reader
// (DreamPlanModel::set_edge_reader) the reading of FramePoses with cut reading on.
// torch first: c10 defines a glog-style CHECK that would replace Catch's (last one wins).
#include <torch/torch.h>
#undef CHECK
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <memory>
#include <vector>

#include "frame_helpers.hpp"
#include "parallax/agents/frame_poses.hpp"
#include "parallax/agents/planner.hpp"
#include "parallax/sim/render_inputs.hpp"
#include "parallax/sim/renderer.hpp"
#include "parallax/sim/world.hpp"
#include "still_world_model.hpp"

namespace {

namespace ag = parallax::agents;
namespace sim = parallax::sim;

}  // namespace

TEST_CASE("dream planner's edge guard refuses a success the frame's border cuts",
          "[edge_guard][planner]") {
  const auto scene = parallax::testing::scene_named("push");
  const auto model = std::make_shared<parallax::testing::StillWorldModel>(*scene);
  sim::Renderer renderer(scene, sim::RenderOptions{.threads = 1});
  sim::World world(scene, 0);
  sim::WorldRenderInputs inputs(*scene);
  const sim::RenderInputs ref = inputs.gather(world);
  const int nk = static_cast<int>(scene->bodies.size()), cube = scene->body_index("cube");
  const std::size_t npx = static_cast<std::size_t>(renderer.height()) * renderer.width();
  const ag::FramePoses finder(scene, {"cube"});
  // The cube at x along y = 0, the goal under it: a frame and where the finder reads the cube.
  struct Shot {
    std::vector<std::uint8_t> rgb;
    std::vector<float> markers;
    float xy[2] = {0, 0};
    std::uint8_t found[1] = {0}, border[1] = {0};
  };
  const auto shoot = [&](float x) {
    Shot s;
    std::vector<float> poses(ref.poses, ref.poses + nk * 7);
    poses[7 * cube] = x, poses[7 * cube + 1] = 0.0f;
    s.markers = {x, 0.0f, 0.0f};
    s.rgb.assign(npx * 3, 0);
    renderer.render(sim::RenderInputs{.n = 1,
                                      .poses = poses.data(),
                                      .markers = s.markers.data(),
                                      .colors = ref.colors,
                                      .scales = ref.scales},
                    s.rgb.data(), nullptr);
    finder.find(s.rgb.data(), s.xy, s.found, s.border);
    return s;
  };
  // In view: the middle of the table. Cut: the first x towards the right edge where the cube
  // is still found but touches the border.
  const Shot inside = shoot(0.05f);
  REQUIRE((inside.found[0] && !inside.border[0]));
  Shot cut;
  for (float x = 0.2f; x < 0.6f && !(cut.found[0] && cut.border[0]); x += 0.005f) cut = shoot(x);
  REQUIRE((cut.found[0] && cut.border[0]));
  const int k = 2, l = 4;
  const float gamma = 0.9f;
  const auto score = [&](const Shot& s, bool guard, bool reader = false) {
    ag::DreamPlanModel dream(model, k, torch::kCPU);
    dream.set_pose_reward(*scene);
    dream.set_edge_guard(guard);
    dream.set_edge_reader(reader);
    dream.set_markers(s.markers);
    dream.set_root(parallax::testing::as_context(s.rgb, *scene),
                   torch::zeros({1, scene->action_size()}));
    std::vector<float> plans(static_cast<std::size_t>(k) * l * 2, 0.0f);
    std::vector<double> returns(k);
    dream.score(plans, k, l, gamma, returns);
    return returns;
  };
  for (const Shot* s : {&inside, static_cast<const Shot*>(&cut)}) {
    const double d = std::hypot(s->xy[0] - s->markers[0], s->xy[1] - s->markers[1]);
    REQUIRE(d < 0.05);  // within push's success distance: the term fires at the first step
    const double success = -d + 10.0;  // pays once and ends the plan
    double no_success = 0, discount = 1;
    for (int t = 0; t < l; ++t) no_success += discount * -d, discount *= gamma;
    const bool on_border = s == &cut;
    INFO((on_border ? "cut by the border" : "in view")
         << ": success " << success << ", without it " << no_success);
    for (double r : score(*s, false)) CHECK(r == Approx(success).epsilon(1e-6));
    for (double r : score(*s, true))
      CHECK(r == Approx(on_border ? no_success : success).epsilon(1e-6));
  }
  // Deeper cut (the first x where the finder reads the cube over 1 cm inward): with the edge
  // reader it is read where it is (FramePoses' cut fits, the same calibration as the planner's),
  // and the guard lets its success pay: the frame confirms it.
  ag::FramePoses reader(scene, {"cube"});
  reader.set_cut_reading(true);
  const auto inward = [](const Shot& s) {
    return std::hypot(s.xy[0] - s.markers[0], s.xy[1] - s.markers[1]);
  };
  Shot deep = cut;
  for (float x = deep.markers[0]; x < 0.8f && deep.found[0] && inward(deep) < 0.01f; x += 0.005f)
    deep = shoot(x);
  REQUIRE((deep.found[0] && deep.border[0] && inward(deep) >= 0.01));
  float xy[2];
  std::uint8_t found[1];
  reader.find(deep.rgb.data(), xy, found);
  REQUIRE(found[0]);
  const double d_cut = std::hypot(xy[0] - deep.markers[0], xy[1] - deep.markers[1]);
  INFO("cube read " << inward(deep) << " m from where it is inward, " << d_cut
                    << " m by the reader");
  CHECK(d_cut < 0.5 * inward(deep));
  for (double r : score(deep, true, true)) CHECK(r == Approx(-d_cut + 10.0).epsilon(1e-6));
  // Refused without poses from frames.
  ag::DreamPlanModel head(model, 2, torch::kCPU);
  CHECK_THROWS_WITH(head.set_edge_guard(true), Catch::Contains("frames"));
  CHECK_NOTHROW(head.set_edge_guard(false));
  CHECK_THROWS_WITH(head.set_edge_reader(true), Catch::Contains("frames"));
  CHECK_NOTHROW(head.set_edge_reader(false));
}
