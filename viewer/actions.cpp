#include "actions.hpp"

#include <algorithm>
#include <cstdio>
#include <stdexcept>

namespace parallax::viewer {

void write_panels_json(const std::string& path, const UiState& ui) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp);
    out << "[";
    for (std::size_t i = 0; i < ui.rects.size(); ++i) {
      const auto& [name, r] = ui.rects[i];
      out << (i ? ",\n " : "") << "{\"name\": \"" << name << "\", \"rect\": [" << r.x << ", " << r.y
          << ", " << r.z << ", " << r.w << "]}";
    }
    out << "]\n";
    if (!out) throw std::runtime_error("cannot write " + path);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) throw std::runtime_error("cannot write " + path);
}

// One JSON line per tick: the selected env's action, the teleoperated body's centroid in the
// true frame (renderer ids) and in the predicted frame (colour method), PSNR.
void trace_line(std::ofstream& out, const Snapshot& s) {
  const int k = [&] {
    for (std::size_t i = 0; i < s.class_names.size(); ++i)
      if (s.class_names[i] == s.pusher) return static_cast<int>(i);
    return -1;
  }();
  out << "{\"tick\": " << s.tick << ", \"env\": " << s.env << ", \"mode\": \"" << s.mode
      << "\", \"action\": [";
  for (int j = 0; j < s.a; ++j) out << (j ? ", " : "") << s.actions[s.env * s.a + j];
  out << "]";
  if (k > 0 && k < static_cast<int>(s.true_centroids.size())) {
    const auto& t = s.true_centroids[k];
    const auto& p = s.pred_centroids[k];
    out << ", \"true_pusher\": [" << t.x << ", " << t.y << ", " << t.pixels << "]"
        << ", \"pred_pusher\": [" << p.x << ", " << p.y << ", " << p.pixels << "]";
  }
  const double psnr = s.metrics.empty() ? 0.0 : std::min(99.0, s.metrics[s.env].psnr);
  out << ", \"psnr\": " << psnr << "}\n";
  out.flush();
}

// Applies one scripted command (script and keyboard shortcuts share these).
void apply(const ScriptCommand& c, Session& session, UiState& ui, Teleop& teleop, bool& quit) {
  const auto& a = c.args;
  const std::string& v = c.verb;
  auto key = [&](const std::string& k) {
    if (k == "space") session.set_playing(!session.playing());
    if (k == "r") ui.toggle_record = true;
    if (k == "p") ui.take_snapshot = true;
    if (k == "t") ui.teleop = !ui.teleop;
    if (k == "n") session.post([](Session& s) { s.resync_now(); });
    if (k == "f")
      session.post(
          [k = ui.futures_k, h = ui.futures_horizon](Session& s) { s.imagine(k, "random", h); });
  };
  if (v == "key") {
    teleop.set_key(a[0], a[1] == "down");
    if (a[1] == "down") key(a[0]);
  } else if (v == "tap") {
    key(a[0]);
  } else if (v == "drag") {
    ui.teleop = true;
    teleop.set_drag(c.numbers[2] - c.numbers[0], c.numbers[3] - c.numbers[1], 64.0f);
  } else if (v == "release") {
    teleop.clear_drag();
  } else if (v == "teleop") {
    ui.teleop = a[0] == "on";
  } else if (v == "overlays") {
    ui.overlays = a[0] == "on";
  } else if (v == "mode") {
    session.post([m = a[0], n = a[0] == "resync" ? static_cast<int>(c.numbers[0])
                                                 : (a[0] == "dream" ? ui.resync_every : 0)](
                     Session& s) { s.set_mode(m, n); });
  } else if (v == "resync") {
    session.post([](Session& s) { s.resync_now(); });
  } else if (v == "policy") {
    session.post([p = a[0]](Session& s) { s.set_policy(p); });
  } else if (v == "env") {
    ui.env = static_cast<int>(c.numbers[0]);
    session.select_env(ui.env);
  } else if (v == "play" || v == "pause") {
    session.set_playing(v == "play");
  } else if (v == "step") {
    session.request_step();
  } else if (v == "reset") {
    session.post([](Session& s) { s.reset(); });
  } else if (v == "record") {
    if ((a[0] == "start") != ui.recording) ui.toggle_record = true;
    if (a[0] == "start") ui.record_path = a[1];
  } else if (v == "snapshot") {
    ui.snapshot_path = a[0];
    ui.take_snapshot = true;
  } else if (v == "futures") {
    session.post([k = static_cast<int>(c.numbers[0]), src = a.size() > 1 ? a[1] : "random",
                  h = ui.futures_horizon](Session& s) { s.imagine(k, src, h); });
  } else if (v == "scene") {
    session.post([sc = a[0], m = a.size() > 1 ? a[1] : ""](Session& s) { s.switch_to(sc, m); });
  } else if (v == "model") {
    session.post([m = a[0]](Session& s) { s.switch_to(s.scene_name(), m); });
  } else if (v == "quit") {
    quit = true;
  }
}

}  // namespace parallax::viewer
