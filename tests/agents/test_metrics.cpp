// Fidelity metrics against scikit-image goldens (tests/data/metrics_golden.json, produced by
// scripts/gen-metrics-golden.py) and against their definitions.
#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <vector>

#include "parallax/agents/metrics.hpp"

using parallax::agents::frame_mse;
using parallax::agents::frame_ssim;
using parallax::agents::psnr_from_mse;

TEST_CASE("metrics match scikit-image on recorded image pairs", "[metrics]") {
  std::ifstream in(std::string(PARALLAX_TEST_DATA_DIR) + "/metrics_golden.json");
  REQUIRE(in.good());
  const auto golden = nlohmann::json::parse(in);
  REQUIRE(golden.at("cases").size() == 3);
  for (const auto& c : golden.at("cases")) {
    INFO(c.at("name").get<std::string>());
    const int h = c.at("height"), w = c.at("width");
    const auto a = c.at("a").get<std::vector<std::uint8_t>>();
    const auto b = c.at("b").get<std::vector<std::uint8_t>>();
    REQUIRE(a.size() == static_cast<std::size_t>(h * w * 3));
    const double mse = frame_mse(a.data(), b.data(), h, w);
    CHECK(mse == Approx(c.at("mse").get<double>()).epsilon(1e-12));
    CHECK(psnr_from_mse(mse) == Approx(c.at("psnr").get<double>()).epsilon(1e-10));
    CHECK(frame_ssim(a.data(), b.data(), h, w) == Approx(c.at("ssim").get<double>()).epsilon(1e-9));
  }
}

TEST_CASE("identical frames: zero MSE and infinite PSNR and SSIM 1", "[metrics]") {
  std::vector<std::uint8_t> f(20 * 30 * 3);
  for (std::size_t i = 0; i < f.size(); ++i) f[i] = static_cast<std::uint8_t>((i * 37) % 251);
  CHECK(frame_mse(f.data(), f.data(), 20, 30) == 0.0);
  CHECK(std::isinf(psnr_from_mse(0.0)));
  CHECK(frame_ssim(f.data(), f.data(), 20, 30) == Approx(1.0).epsilon(1e-12));
}

TEST_CASE("MSE of a uniform offset is the offset squared", "[metrics]") {
  std::vector<std::uint8_t> a(16 * 16 * 3, 100), b(16 * 16 * 3, 151);  // 51/255 = 0.2
  CHECK(frame_mse(a.data(), b.data(), 16, 16) == Approx(0.04).epsilon(1e-12));
  CHECK(psnr_from_mse(0.04) == Approx(13.979400086720377).epsilon(1e-12));
}
