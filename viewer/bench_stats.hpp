// --bench: frame-time and tick-time percentiles, printed as one JSON line at exit.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "options.hpp"
#include "session.hpp"

namespace parallax::viewer {

struct BenchStats {
  std::vector<double> ms;
  void add(double v) { ms.push_back(v); }
  // Nearest-rank percentile, q in [0, 100]; 0 when empty.
  double percentile(double q) const {
    if (ms.empty()) return 0;
    std::vector<double> s = ms;
    std::sort(s.begin(), s.end());
    const auto rank = static_cast<std::size_t>(std::ceil(q / 100.0 * s.size()));
    return s[std::clamp<std::size_t>(rank, 1, s.size()) - 1];
  }
};

// frames: the work of each UI frame [ms]; ticks: each tick [ms]; wall_s: the run's duration.
inline std::string bench_json(const ViewerOptions& o, const Snapshot& s, const BenchStats& frames,
                              const BenchStats& ticks, double wall_s) {
  auto pct = [](const BenchStats& b) {
    char buf[160];
    std::snprintf(
        buf, sizeof buf, "{\"n\": %zu, \"p50\": %.2f, \"p90\": %.2f, \"p99\": %.2f, \"max\": %.2f}",
        b.ms.size(), b.percentile(50), b.percentile(90), b.percentile(99), b.percentile(100));
    return std::string(buf);
  };
  const double seconds = wall_s;
  char head[256];
  std::snprintf(head, sizeof head,
                "{\"bench\": \"viewer\", \"scene\": \"%s\", \"envs\": %d, \"frames\": %zu, "
                "\"fps\": %.1f, \"ticks_per_s\": %.1f, \"control_hz\": %d, ",
                s.scene.c_str(), o.envs, frames.ms.size(),
                seconds > 0 ? frames.ms.size() / seconds : 0.0,
                seconds > 0 ? ticks.ms.size() / seconds : 0.0, s.control_hz);
  return std::string(head) + "\"frame_ms\": " + pct(frames) + ", \"tick_ms\": " + pct(ticks) + "}";
}

}  // namespace parallax::viewer
