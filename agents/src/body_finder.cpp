// Body centroids from colour (predicted frames) and from ids (true frames).
#include "parallax/agents/body_finder.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace parallax::agents {

namespace {

constexpr float kDark = 0.04f * 3.0f * 255.0f;  // r + g + b below this: no reliable hue
// A class's brightness range measured on the true frame is widened by this factor each way
// (shading of a predicted frame may differ a little); outside it a pixel pays
// kBrightnessWeight * log(ratio)^2: 0.48 at a factor 2, more than most squared chromaticity
// distances between the shipped scenes' colours (0.01-0.2; billiards' felt to red ball 0.62).
constexpr float kBrightnessSlack = 1.5f;
constexpr float kBrightnessWeight = 1.0f;
constexpr float kNoRange = std::numeric_limits<float>::infinity();

std::array<float, 2> chroma(float r, float g, float b) {
  const float s = r + g + b;
  return {r / s, g / s};
}

// Counts pixel (x, y) on each border it lies on.
void count_edges(Centroid& c, int x, int y, int width, int height) {
  const bool on[4] = {x == 0, x == width - 1, y == 0, y == height - 1};
  for (int s = 0; s < 4; ++s)
    if (on[s]) ++c.edge[s], c.border = true;
}

}  // namespace

BodyFinder::BodyFinder(const sim::SceneModel& scene, const float* colors) {
  const std::size_t k = scene.bodies.size();
  ref_.push_back(chroma(1, 1, 1));  // background (never drawn in shipped scenes): grey
  for (std::size_t i = 0; i < k; ++i)
    ref_.push_back(
        chroma(colors[3 * i] + 1e-3f, colors[3 * i + 1] + 1e-3f, colors[3 * i + 2] + 1e-3f));
  for (const auto& m : scene.markers)
    ref_.push_back(chroma(static_cast<float>(m.color[0]) + 1e-3f,
                          static_cast<float>(m.color[1]) + 1e-3f,
                          static_cast<float>(m.color[2]) + 1e-3f));
  range_.assign(ref_.size(), {-kNoRange, kNoRange});
}

void BodyFinder::calibrate(const std::uint8_t* rgb, const std::uint8_t* ids, int height,
                           int width) {
  std::vector<double> sr(ref_.size(), 0), sg(ref_.size(), 0);
  std::vector<int> n(ref_.size(), 0);
  std::vector<std::array<float, 2>> seen(ref_.size(), {kNoRange, -kNoRange});
  for (int p = 0; p < height * width; ++p) {
    const int c = ids[p];
    if (c >= static_cast<int>(ref_.size())) continue;
    const float r = rgb[3 * p], g = rgb[3 * p + 1], b = rgb[3 * p + 2];
    if (r + g + b < kDark) continue;
    const auto ch = chroma(r, g, b);
    sr[c] += ch[0];
    sg[c] += ch[1];
    ++n[c];
    const float lb = std::log(r + g + b);
    seen[c] = {std::min(seen[c][0], lb), std::max(seen[c][1], lb)};
  }
  const float slack = std::log(kBrightnessSlack);
  for (std::size_t c = 0; c < ref_.size(); ++c)
    if (n[c] >= 4) {
      ref_[c] = {static_cast<float>(sr[c] / n[c]), static_cast<float>(sg[c] / n[c])};
      range_[c] = {seen[c][0] - slack, seen[c][1] + slack};
    }
}

int BodyFinder::classify(float r, float g, float b) const {
  if (r + g + b < kDark) return -1;
  const auto ch = chroma(r, g, b);
  const float lb = std::log(r + g + b);
  int best = 0;
  float best_d = std::numeric_limits<float>::max();
  for (std::size_t c = 0; c < ref_.size(); ++c) {
    const float dr = ch[0] - ref_[c][0], dg = ch[1] - ref_[c][1];
    const float out = std::max({range_[c][0] - lb, lb - range_[c][1], 0.0f});
    const float d = dr * dr + dg * dg + kBrightnessWeight * out * out;
    if (d < best_d) best_d = d, best = static_cast<int>(c);
  }
  return best;
}

void BodyFinder::classify(const std::uint8_t* rgb, int height, int width,
                          std::int16_t* classes) const {
  for (int p = 0; p < height * width; ++p)
    classes[p] = static_cast<std::int16_t>(classify(rgb[3 * p], rgb[3 * p + 1], rgb[3 * p + 2]));
}

std::vector<Centroid> BodyFinder::find(const std::uint8_t* rgb, int height, int width) const {
  std::vector<Centroid> out(ref_.size());
  std::vector<double> sx(ref_.size(), 0), sy(ref_.size(), 0);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      const int p = y * width + x;
      const int best = classify(rgb[3 * p], rgb[3 * p + 1], rgb[3 * p + 2]);
      if (best < 0) continue;
      sx[best] += x + 0.5;
      sy[best] += y + 0.5;
      ++out[best].pixels;
      count_edges(out[best], x, y, width, height);
    }
  }
  for (std::size_t c = 0; c < ref_.size(); ++c)
    if (out[c].pixels > 0) out[c].x = sx[c] / out[c].pixels, out[c].y = sy[c] / out[c].pixels;
  return out;
}

std::vector<Centroid> id_centroids(const std::uint8_t* ids, int height, int width,
                                   int num_classes) {
  std::vector<Centroid> out(num_classes);
  std::vector<double> sx(num_classes, 0), sy(num_classes, 0);
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x) {
      const int c = ids[y * width + x];
      if (c >= num_classes) continue;
      sx[c] += x + 0.5;
      sy[c] += y + 0.5;
      ++out[c].pixels;
      count_edges(out[c], x, y, width, height);
    }
  for (int c = 0; c < num_classes; ++c)
    if (out[c].pixels > 0) out[c].x = sx[c] / out[c].pixels, out[c].y = sy[c] / out[c].pixels;
  return out;
}

}  // namespace parallax::agents
