// Physics-IQ motion metrics against an independent NumPy implementation on synthetic moving
// squares; correlation helpers against values computed by hand (and scipy's definitions).
#include <unistd.h>
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <string>

#include "parallax/agents/motion_metrics.hpp"
#include "parallax/agents/stats.hpp"

namespace ag = parallax::agents;

namespace {

// T + 1 frames [H, W, 3] of a square of side s moving by (dx, dy) per step over noise-free grey.
std::vector<std::uint8_t> squares(int t1, int h, int w, int x0, int y0, int dx, int dy, int s,
                                  std::uint8_t level) {
  std::vector<std::uint8_t> f(static_cast<std::size_t>(t1) * h * w * 3, 128);
  for (int t = 0; t < t1; ++t)
    for (int y = 0; y < s; ++y)
      for (int x = 0; x < s; ++x) {
        const int px = x0 + dx * t + x, py = y0 + dy * t + y;
        if (px < 0 || py < 0 || px >= w || py >= h) continue;
        for (int c = 0; c < 3; ++c)
          f[((static_cast<std::size_t>(t) * h + py) * w + px) * 3 + c] = level;
      }
  return f;
}

nlohmann::json reference(const std::vector<std::uint8_t>& truth,
                         const std::vector<std::uint8_t>& pred, int t1, int h, int w, int thr) {
  const std::string dir = std::string("/tmp/parallax_piq_") + std::to_string(::getpid());
  std::system(("mkdir -p " + dir).c_str());
  std::ofstream(dir + "/t.u8", std::ios::binary)
      .write(reinterpret_cast<const char*>(truth.data()),
             static_cast<std::streamsize>(truth.size()));
  std::ofstream(dir + "/p.u8", std::ios::binary)
      .write(reinterpret_cast<const char*>(pred.data()), static_cast<std::streamsize>(pred.size()));
  const std::string cmd = std::string(PARALLAX_TEST_PYTHON) + " " + PARALLAX_SOURCE_DIR +
                          "/tests/python/physics_iq_reference.py " + dir + "/t.u8 " + dir +
                          "/p.u8 " + std::to_string(t1) + " " + std::to_string(h) + " " +
                          std::to_string(w) + " " + std::to_string(thr) + " > " + dir + "/out.json";
  REQUIRE(std::system(cmd.c_str()) == 0);
  std::ifstream in(dir + "/out.json");
  return nlohmann::json::parse(in);
}

std::vector<const std::uint8_t*> frames(const std::vector<std::uint8_t>& v, int t1, int px) {
  std::vector<const std::uint8_t*> out;
  for (int t = 0; t < t1; ++t) out.push_back(v.data() + static_cast<std::size_t>(t) * px * 3);
  return out;
}

}  // namespace

TEST_CASE("motion metrics match an independent NumPy implementation", "[agents][fidelity]") {
  const int t1 = 9, h = 32, w = 40, thr = 25;
  struct Case {
    const char* what;
    std::vector<std::uint8_t> truth, pred;
  };
  std::vector<Case> cases;
  cases.push_back(
      {"same motion", squares(t1, h, w, 2, 3, 2, 1, 5, 20), squares(t1, h, w, 2, 3, 2, 1, 5, 20)});
  cases.push_back({"slower prediction", squares(t1, h, w, 2, 3, 2, 1, 5, 20),
                   squares(t1, h, w, 2, 3, 1, 1, 5, 20)});
  cases.push_back({"other direction", squares(t1, h, w, 20, 10, 2, 1, 6, 20),
                   squares(t1, h, w, 20, 10, -2, 2, 6, 230)});
  cases.push_back({"prediction frozen", squares(t1, h, w, 2, 3, 3, 0, 4, 250),
                   squares(t1, h, w, 2, 3, 0, 0, 4, 250)});
  // A noisy prediction: small changes below the threshold and some above it.
  auto noisy = squares(t1, h, w, 4, 4, 1, 2, 7, 60);
  std::mt19937 rng(5);
  for (std::size_t i = 3 * h * w; i < noisy.size(); ++i)
    noisy[i] = static_cast<std::uint8_t>(std::clamp(int{noisy[i]} + int(rng() % 61) - 30, 0, 255));
  cases.push_back({"noisy prediction", squares(t1, h, w, 4, 4, 1, 2, 7, 60), noisy});
  for (const auto& c : cases) {
    INFO(c.what);
    const auto ours =
        ag::motion_scores(frames(c.truth, t1, h * w), frames(c.pred, t1, h * w), h * w, thr);
    const auto ref = reference(c.truth, c.pred, t1, h, w, thr);
    REQUIRE(ours.defined == ref["defined"].get<bool>());
    CHECK(ours.spatial_iou == Approx(ref["spatial_iou"].get<double>()).epsilon(1e-12));
    CHECK(ours.spatiotemporal_iou ==
          Approx(ref["spatiotemporal_iou"].get<double>()).epsilon(1e-12));
    CHECK(ours.weighted_spatial_iou ==
          Approx(ref["weighted_spatial_iou"].get<double>()).epsilon(1e-12));
    CHECK(ours.masked_mse == Approx(ref["masked_mse"].get<double>()).epsilon(1e-12));
  }
  // Identical sequences score 1, 1, 1 and MSE 0; nothing moving anywhere is undefined.
  const auto same = ag::motion_scores(frames(cases[0].truth, t1, h * w),
                                      frames(cases[0].pred, t1, h * w), h * w, thr);
  CHECK(same.spatial_iou == 1.0);
  CHECK(same.masked_mse == 0.0);
  const auto still = squares(t1, h, w, 2, 2, 0, 0, 4, 20);
  CHECK_FALSE(
      ag::motion_scores(frames(still, t1, h * w), frames(still, t1, h * w), h * w, thr).defined);
}

TEST_CASE("pearson and spearman follow their textbook definitions", "[agents][fidelity]") {
  // Hand computation: x = 1..5, y = 2x + 1 -> r = 1; y reversed -> r = -1.
  CHECK(ag::pearson({1, 2, 3, 4, 5}, {3, 5, 7, 9, 11}) == Approx(1.0));
  CHECK(ag::pearson({1, 2, 3, 4, 5}, {5, 4, 3, 2, 1}) == Approx(-1.0));
  // x = (1, 2, 3), y = (1, 3, 2): mean 2, 2; sxy = 1*-1 .. = (−1)(−1)+0+(1)(0) = 1; sxx = syy = 2.
  CHECK(ag::pearson({1, 2, 3}, {1, 3, 2}) == Approx(0.5));
  // Spearman is monotone-invariant: y = x^3 gives 1 where Pearson does not.
  CHECK(ag::spearman({1, 2, 3, 4}, {1, 8, 27, 64}) == Approx(1.0));
  CHECK(ag::pearson({1, 2, 3, 4}, {1, 8, 27, 64}) < 0.99);
  // Ties get their average rank (scipy.stats.rankdata 'average'): [10, 20, 20, 30] ->
  // 1, 2.5, 2.5, 4.
  CHECK(ag::average_ranks({10, 20, 20, 30}) == std::vector<double>{1, 2.5, 2.5, 4});
  CHECK(std::isnan(ag::pearson({1, 1, 1}, {1, 2, 3})));
  CHECK(ag::same_ranking({-7, -8, -9}, {-6, -9.5, -10}));
  CHECK_FALSE(ag::same_ranking({-7, -8, -9}, {-6, -10, -9.5}));
}
