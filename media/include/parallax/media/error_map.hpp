// The error heat map: per pixel, the mean absolute difference of two RGB frames over the three
// channels, divided by a scale and coloured by a perceptual map (black -> purple -> orange ->
// yellow, a five-stop approximation of matplotlib's "inferno"). The scale is part of the
// picture: the viewer and the MP4 draw it as a colour bar with its value.
// Reference: docs/viewer.md.
#pragma once

#include <array>
#include <cstdint>
#include <span>

namespace parallax::media {

// The colour of t in [0, 1] (clamped): RGB u8.
std::array<std::uint8_t, 3> error_color(float t);

// Mean absolute channel difference per pixel, in [0, 1]: a, b [H, W, 3] u8 -> out [H, W] f32.
// Returns the largest value (0 for identical frames).
float abs_error(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b, int h, int w,
                std::span<float> out);

// Colours an error image [H, W] f32 with value/scale (scale > 0; 1 means "a full-range
// difference is yellow"): out [H, W, 3] u8.
void color_error(std::span<const float> err, int h, int w, float scale,
                 std::span<std::uint8_t> out);

// A horizontal colour bar [H, W, 3] u8 from error 0 (left) to the scale (right).
void color_bar(int h, int w, std::span<std::uint8_t> out);

}  // namespace parallax::media
