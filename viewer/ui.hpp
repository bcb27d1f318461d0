// The viewer's panels, one file each (layout.cpp; panels.cpp: worlds and env grid; plots.cpp;
// futures_panel.cpp; controls_panel.cpp; switch_panel.cpp). Each draws from the latest Snapshot and
// posts its actions to the Session; recording requests go back to the main loop through UiState.
#pragma once

#include <imgui.h>

#include <deque>
#include <string>
#include <utility>
#include <vector>

#include "frame_texture.hpp"
#include "session.hpp"
#include "teleop.hpp"

namespace parallax::viewer {

struct UiState {
  // Selection and toggles.
  int env = 0;
  bool overlays = false;
  bool teleop = false;
  bool max_speed = false;
  int resync_every = 8;
  // Futures.
  int futures_k = 8;
  int futures_horizon = 15;
  int futures_step = 14;  // which step of the futures is shown
  bool futures_planner = false;
  std::uint64_t futures_version = 0;
  // Scene and model switching.
  int scene_index = 0;
  std::vector<std::string> scenes;
  char model_path[512] = "";
  // Requests for the main loop (recording lives there).
  bool toggle_record = false, take_snapshot = false;
  bool recording = false;
  std::string record_path = "parallax-view.mp4", snapshot_path = "parallax-view.png";
  // Frame times [ms] of the UI, last 240, and the drag on the true frame.
  std::deque<float> frame_ms;
  bool dragging = false;
  ImVec2 drag_from{0, 0};
  // Where each panel was drawn this frame: name, (x0, y0, x1, y1) in window pixels.
  std::vector<std::pair<std::string, ImVec4>> rects;
  // Textures.
  FrameTexture true_tex, pred_tex, err_tex, bar_tex, futures_tex;
  std::vector<FrameTexture> thumbs;
  std::vector<std::uint8_t> err_rgb;  // [H, W, 3] of the selected env
  float err_peak = 0;
};

// Records the last ImGui item's rectangle under `name` (for the panel test).
void log_rect(UiState& ui, const std::string& name);

// The whole instrument, one frame (layout.cpp).
void draw_instrument(Session& session, const Snapshot& s, UiState& ui, Teleop& teleop);
void draw_controls(Session& session, const Snapshot& s, UiState& ui, Teleop& teleop);
void draw_worlds(Session& session, const Snapshot& s, UiState& ui, Teleop& teleop);
void draw_env_grid(Session& session, const Snapshot& s, UiState& ui);
void draw_plots(const Snapshot& s, UiState& ui);
void draw_futures(Session& session, const Snapshot& s, UiState& ui);
void draw_switch(Session& session, const Snapshot& s, UiState& ui);

// The error scale of the heat map (mean absolute channel difference shown as the top colour).
inline constexpr float kErrorScale = 0.25f;

}  // namespace parallax::viewer
