// CUDA renderer against the CPU renderer (issue 4: same tolerance as the goldens: at most 0.5%
// of the pixels differ by more than 2, ids at most 0.5% different). Live only where the library
// was built with CUDA and a device is present (bench/device-check.sh); elsewhere it says so.
#include <catch2/catch.hpp>

#include <cstdint>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "parallax/sim/renderer.hpp"
#include "parallax/sim/scene.hpp"
#include "parallax/sim/world.hpp"
#include "test_render_compare.hpp"

namespace ps = parallax::sim;

TEST_CASE("renderer: CUDA output matches the CPU output on every shipped scene",
          "[render][.cuda]") {
  if (!ps::cuda_renderer_available()) {
    WARN("no CUDA device (or built without CUDA): CUDA-vs-CPU comparison not run here");
    auto scene = std::make_shared<const ps::SceneModel>(ps::resolve_scene("push"));
#ifndef PARALLAX_HAVE_CUDA
    CHECK_THROWS_WITH(ps::CudaRenderer(scene), "built without CUDA");
#endif
    return;
  }
  for (const std::string& name : ps::shipped_scenes()) {
    for (int spp : {1, 4}) {
      INFO("scene " << name << " spp " << spp);
      auto scene = std::make_shared<const ps::SceneModel>(ps::resolve_scene(name));
      const int n = 16;
      const std::size_t k = scene->bodies.size(), m = scene->markers.size();
      // Seeded, stepped states: env i = seed i after i control steps of random actions.
      std::vector<float> poses(n * k * 7), markers(n * m * 3), colors(n * k * 3), scales(n * k);
      std::mt19937 rng(1);
      std::uniform_real_distribution<float> u(-1.f, 1.f);
      for (int i = 0; i < n; ++i) {
        ps::World w(scene, static_cast<std::uint64_t>(i));
        std::vector<float> action(scene->action_size());
        for (int t = 0; t < i; ++t) {
          for (float& v : action) v = u(rng);
          w.step(action);
        }
        w.poses({poses.data() + i * k * 7, k * 7});
        w.marker_positions({markers.data() + i * m * 3, m * 3});
        w.body_colors({colors.data() + i * k * 3, k * 3});
        w.body_size_scales({scales.data() + i * k, k});
      }
      ps::RenderOptions opt;
      opt.width = 96;  // non-square, not a multiple of the 16-pixel tile
      opt.height = 72;
      opt.spp = spp;
      ps::Renderer cpu(scene, opt);
      ps::CudaRenderer gpu(scene, opt);
      const std::size_t px = static_cast<std::size_t>(n) * 96 * 72;
      std::vector<std::uint8_t> rgb_c(px * 3), ids_c(px), rgb_g(px * 3), ids_g(px);
      cpu.render({.n = n,
                  .poses = poses.data(),
                  .markers = markers.data(),
                  .colors = colors.data(),
                  .scales = scales.data()},
                 rgb_c.data(), ids_c.data());
      ps::DeviceBuffer d_poses(poses.size() * 4), d_markers(markers.size() * 4 + 4),
          d_colors(colors.size() * 4), d_scales(scales.size() * 4), d_rgb(px * 3), d_ids(px);
      d_poses.upload(poses.data(), poses.size() * 4);
      d_markers.upload(markers.data(), markers.size() * 4);
      d_colors.upload(colors.data(), colors.size() * 4);
      d_scales.upload(scales.data(), scales.size() * 4);
      gpu.render({.n = n,
                  .poses = static_cast<const float*>(d_poses.data()),
                  .markers = static_cast<const float*>(d_markers.data()),
                  .colors = static_cast<const float*>(d_colors.data()),
                  .scales = static_cast<const float*>(d_scales.data())},
                 static_cast<std::uint8_t*>(d_rgb.data()),
                 static_cast<std::uint8_t*>(d_ids.data()));
      gpu.synchronize();
      d_rgb.download(rgb_g.data(), px * 3);
      d_ids.download(ids_g.data(), px);
      const auto d = parallax::test::diff_images(rgb_g.data(), rgb_c.data(), px, 3, 2);
      INFO("rgb: " << d.str());
      CHECK(d.ok());
      const auto di = parallax::test::diff_images(ids_g.data(), ids_c.data(), px, 1, 0);
      INFO("ids: " << di.str());
      CHECK(di.ok());
      // Nominal markers (nullptr) and no appearance arrays work on the device too.
      gpu.render({.n = n, .poses = static_cast<const float*>(d_poses.data())},
                 static_cast<std::uint8_t*>(d_rgb.data()));
      gpu.synchronize();
      cpu.render({.n = n, .poses = poses.data()}, rgb_c.data());
      d_rgb.download(rgb_g.data(), px * 3);
      const auto d2 = parallax::test::diff_images(rgb_g.data(), rgb_c.data(), px, 3, 2);
      INFO("nominal markers: " << d2.str());
      CHECK(d2.ok());
    }
  }
}
