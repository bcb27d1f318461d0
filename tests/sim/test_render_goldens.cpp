// Goldens: every shipped scene rendered at 64x64 from its nominal state (the poses, markers and
// colours written in the scene file, no randomisation) must match tests/data/render_<scene>.png
// and render_<scene>_ids.png within the tolerance: at most 0.5% of the pixels may differ
// by more than 2 (ids: at all).
//
// The goldens are a recorded run, checked by eye when made (they must look like the scene).
// Regenerate them ONLY with scripts/regen-render-goldens (it sets PARALLAX_REGEN_RENDER_GOLDENS,
// which makes this test write the files instead of comparing), then look at them and commit.
#include <catch2/catch.hpp>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "parallax/sim/image_io.hpp"
#include "parallax/sim/renderer.hpp"
#include "parallax/sim/scene.hpp"
#include "test_render_compare.hpp"

namespace ps = parallax::sim;

TEST_CASE("renderer: shipped scenes render like their goldens at 64x64", "[render][golden]") {
  const std::filesystem::path data = PARALLAX_TEST_DATA_DIR;
  const bool regen = std::getenv("PARALLAX_REGEN_RENDER_GOLDENS") != nullptr;
  const std::vector<std::string> scenes = ps::shipped_scenes();
  REQUIRE(scenes.size() >= 5);
  for (const std::string& name : scenes) {
    INFO("scene " << name);
    auto scene = std::make_shared<const ps::SceneModel>(ps::resolve_scene(name));
    ps::RenderOptions opt;
    opt.width = opt.height = 64;
    ps::Renderer r(scene, opt);
    const std::vector<float> poses = ps::initial_poses(*scene);  // [1, K, 7] f32
    std::vector<std::uint8_t> rgb(64 * 64 * 3), ids(64 * 64);    // [1, 64, 64, 3], [1, 64, 64]
    r.render({.n = 1, .poses = poses.data()}, rgb.data(), ids.data());
    const auto rgb_file = data / ("render_" + name + ".png");
    const auto ids_file = data / ("render_" + name + "_ids.png");
    if (regen) {
      ps::write_png(rgb_file, 64, 64, 3, rgb.data());
      ps::write_png(ids_file, 64, 64, 1, ids.data());
      WARN("wrote " << rgb_file.string() << " and " << ids_file.string());
      continue;
    }
    REQUIRE(std::filesystem::exists(rgb_file));  // missing: see scripts/regen-render-goldens
    const ps::Image golden = ps::read_png(rgb_file, 3);
    const ps::Image golden_ids = ps::read_png(ids_file, 1);
    REQUIRE(golden.width == 64);
    REQUIRE(golden.height == 64);
    const auto d = parallax::test::diff_images(rgb.data(), golden.pixels.data(), 64 * 64, 3, 2);
    INFO("rgb: " << d.str());
    CHECK(d.ok());
    const auto di =
        parallax::test::diff_images(ids.data(), golden_ids.pixels.data(), 64 * 64, 1, 0);
    INFO("ids: " << di.str());
    CHECK(di.ok());
    // Not a blank frame: the scene's bodies are in view.
    int bodies_seen = 0;
    for (int k = 1; k <= r.num_bodies(); ++k) {
      bodies_seen += std::count(ids.begin(), ids.end(), static_cast<std::uint8_t>(k)) > 0;
    }
    CHECK(bodies_seen >= 2);
  }
}
