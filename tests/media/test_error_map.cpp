#include <catch2/catch.hpp>

#include <vector>

#include "parallax/media/error_map.hpp"

using parallax::media::abs_error;
using parallax::media::color_bar;
using parallax::media::color_error;
using parallax::media::error_color;

TEST_CASE("error map: ends of the colour map are matplotlib's inferno ends", "[media]") {
  // matplotlib's _cm_listed.py: _inferno_data[0] = (0.001462, 0.000466, 0.013866) and
  // _inferno_data[255] = (0.988362, 0.998364, 0.644924); times 255, rounded.
  CHECK(error_color(0.0f) == std::array<std::uint8_t, 3>{0, 0, 4});
  CHECK(error_color(1.0f) == std::array<std::uint8_t, 3>{252, 254, 164});
  // Clamped outside [0, 1]; NaN/inf shown as the top colour (never as "no error").
  CHECK(error_color(-3.0f) == error_color(0.0f));
  CHECK(error_color(7.0f) == error_color(1.0f));
  CHECK(error_color(std::numeric_limits<float>::quiet_NaN()) == error_color(1.0f));
  // Monotone brightness (sum of channels) along the map: a larger error never looks darker.
  int last = -1;
  for (int i = 0; i <= 100; ++i) {
    const auto c = error_color(static_cast<float>(i) / 100.0f);
    const int sum = c[0] + c[1] + c[2];
    CHECK(sum >= last);
    last = sum;
  }
}

TEST_CASE("error map: per-pixel mean absolute difference by hand", "[media]") {
  // Two 1x2 frames. Pixel 0: |10-40| + |20-20| + |30-0| = 60 -> 60 / 765. Pixel 1: equal.
  const std::vector<std::uint8_t> a{10, 20, 30, 5, 5, 5}, b{40, 20, 0, 5, 5, 5};
  std::vector<float> err(2);
  const float peak = abs_error(a, b, 1, 2, err);
  CHECK(err[0] == Approx(60.0 / 765.0));
  CHECK(err[1] == 0.0f);
  CHECK(peak == Approx(60.0 / 765.0));
  // Scale: an error equal to the scale is the top colour; zero is the bottom one.
  std::vector<std::uint8_t> rgb(6);
  color_error(err, 1, 2, 60.0f / 765.0f, rgb);
  CHECK(std::vector<std::uint8_t>(rgb.begin(), rgb.begin() + 3) ==
        std::vector<std::uint8_t>{252, 254, 164});
  CHECK(std::vector<std::uint8_t>(rgb.begin() + 3, rgb.end()) ==
        std::vector<std::uint8_t>{0, 0, 4});
  CHECK_THROWS_WITH(color_error(err, 1, 2, 0.0f, rgb), Catch::Contains("scale"));
  CHECK_THROWS_WITH(abs_error(a, b, 2, 2, err), Catch::Contains("frame a"));
}

TEST_CASE("error map: the colour bar runs from no error (left) to the scale (right)", "[media]") {
  std::vector<std::uint8_t> bar(2 * 11 * 3);
  color_bar(2, 11, bar);
  for (int y = 0; y < 2; ++y) {
    const std::uint8_t* row = bar.data() + y * 11 * 3;
    CHECK(std::array<std::uint8_t, 3>{row[0], row[1], row[2]} == error_color(0.0f));
    CHECK(std::array<std::uint8_t, 3>{row[30], row[31], row[32]} == error_color(1.0f));
    CHECK(std::array<std::uint8_t, 3>{row[15], row[16], row[17]} == error_color(0.5f));
  }
}
