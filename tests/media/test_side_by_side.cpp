#include <catch2/catch.hpp>

#include <vector>

#include "parallax/media/error_map.hpp"
#include "parallax/media/side_by_side.hpp"

using parallax::media::SideBySide;
using parallax::media::SideBySideOptions;

namespace {
std::array<std::uint8_t, 3> at(std::span<const std::uint8_t> img, int width, int x, int y) {
  const std::size_t i = (static_cast<std::size_t>(y) * width + x) * 3;
  return {img[i], img[i + 1], img[i + 2]};
}
}  // namespace

TEST_CASE("side-by-side: panels in order and enlarged with the error next to them", "[media]") {
  // 3x5 frames (odd on purpose), scale 3, gap 7: panels 15 px wide at x = 0, 22, 44.
  SideBySide v(SideBySideOptions{
      .frame_height = 3, .frame_width = 5, .scale = 3, .gap = 7, .error_scale = 0.5f});
  // Width 3*15 + 2*7 = 59 -> 60 (even); height 9 + 3 + max(4, 6) = 18.
  CHECK(v.width() == 60);
  CHECK(v.height() == 18);
  std::vector<std::uint8_t> t(3 * 5 * 3), p(3 * 5 * 3);
  for (std::size_t i = 0; i < t.size(); ++i) {
    t[i] = static_cast<std::uint8_t>(i * 5);
    p[i] = t[i];
  }
  // Texel (row 2, col 4) differs in the prediction by 255 in every channel -> error 1.0 there.
  const std::size_t k = (2 * 5 + 4) * 3;
  for (int c = 0; c < 3; ++c) p[k + c] = static_cast<std::uint8_t>(255 - t[k + c]);
  float peak = 0;
  const auto img = v.compose(t, p, &peak);
  REQUIRE(img.size() == static_cast<std::size_t>(60 * 18 * 3));
  // The largest error: |t - (255 - t)| per channel for t = 210, 215, 220 -> 165, 175, 185.
  CHECK(peak == Approx((165.0 + 175.0 + 185.0) / 765.0));
  for (int ty = 0; ty < 3; ++ty)
    for (int tx = 0; tx < 5; ++tx)
      for (int dy = 0; dy < 3; ++dy)
        for (int dx = 0; dx < 3; ++dx) {
          const int x = tx * 3 + dx, y = ty * 3 + dy;
          const std::size_t i = (ty * 5 + tx) * 3;
          CHECK(at(img, 60, x, y) == std::array<std::uint8_t, 3>{t[i], t[i + 1], t[i + 2]});
          CHECK(at(img, 60, 22 + x, y) == std::array<std::uint8_t, 3>{p[i], p[i + 1], p[i + 2]});
          const bool bad = ty == 2 && tx == 4;
          // Error 0 -> the bottom colour; error 0.686 over scale 0.5 -> clamped to the top.
          CHECK(at(img, 60, 44 + x, y) == parallax::media::error_color(bad ? 1.0f : 0.0f));
        }
  // The colour bar under the error panel: left end no error, right end the scale.
  CHECK(at(img, 60, 44, 12) == parallax::media::error_color(0.0f));
  CHECK(at(img, 60, 58, 17) == parallax::media::error_color(1.0f));
  // Between panels: background.
  CHECK(at(img, 60, 18, 4) == std::array<std::uint8_t, 3>{24, 24, 24});
}

TEST_CASE("side-by-side: options out of range are refused by name", "[media]") {
  CHECK_THROWS_WITH(SideBySide(SideBySideOptions{.scale = 0}), Catch::Contains("scale"));
  CHECK_THROWS_WITH(SideBySide(SideBySideOptions{.error_scale = 0.0f}),
                    Catch::Contains("error_scale"));
  CHECK_THROWS_WITH(SideBySide(SideBySideOptions{.frame_height = 0}),
                    Catch::Contains("frame_height"));
}
