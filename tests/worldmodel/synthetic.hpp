// Synthetic episodes for world-model tests: deterministic, action-dependent, no files.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "parallax/worldmodel/episode_store.hpp"

namespace parallax::worldmodel::testing {

// A red 4x4 square on a fixed blue-green gradient, moved by the 2-D action (1.5 px per unit).
// Reward: minus the distance of the square to the centre (in frame widths). Never terminates; the
// last step is a truncation. Deterministic for a seed.
inline std::vector<Episode> moving_square(int episodes, int steps, int size, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  const int S = 4;  // square side [px]
  std::vector<Episode> out;
  for (int e = 0; e < episodes; ++e) {
    Episode ep;
    ep.id = e;
    ep.steps = steps;
    float x = (u(rng) * 0.5f + 0.5f) * (size - S), y = (u(rng) * 0.5f + 0.5f) * (size - S);
    auto draw = [&] {
      for (int c = 0; c < 3; ++c)
        for (int r = 0; r < size; ++r)
          for (int q = 0; q < size; ++q) {
            const bool in = q >= static_cast<int>(x) && q < static_cast<int>(x) + S &&
                            r >= static_cast<int>(y) && r < static_cast<int>(y) + S;
            const int bg[3] = {20, 60 + 150 * r / size, 200 - 120 * q / size};
            ep.observations.push_back(static_cast<std::uint8_t>(in ? (c == 0 ? 240 : 30) : bg[c]));
          }
    };
    draw();
    for (int t = 0; t < steps; ++t) {
      const float ax = u(rng), ay = u(rng);
      ep.actions.push_back(ax);
      ep.actions.push_back(ay);
      x = std::clamp(x + 1.5f * ax, 0.0f, static_cast<float>(size - S));
      y = std::clamp(y + 1.5f * ay, 0.0f, static_cast<float>(size - S));
      draw();
      const float cx = x + S / 2.0f - size / 2.0f, cy = y + S / 2.0f - size / 2.0f;
      ep.rewards.push_back(-std::sqrt(cx * cx + cy * cy) / size);
      ep.terminations.push_back(0);
      ep.truncations.push_back(t == steps - 1 ? 1 : 0);
    }
    out.push_back(std::move(ep));
  }
  return out;
}

}  // namespace parallax::worldmodel::testing
