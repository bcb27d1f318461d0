// The instrument's layout: the tool bar across the top; on the left the worlds above a tab of
// env thumbnails and imagined futures; on the right the plots above scene and model switching.
// Fixed windows sized from the display, so screenshots and tests see the same places.
#include <cmath>

#include "ui.hpp"

namespace parallax::viewer {

void draw_instrument(Session& session, const Snapshot& snap, UiState& ui, Teleop& teleop) {
  const ImVec2 d = ImGui::GetIO().DisplaySize;
  const float left = std::floor(d.x * 0.64f), top = 58;
  const ImGuiWindowFlags fixed =
      ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoResize | ImGuiWindowFlags_NoCollapse;
  auto place = [&](float x, float y, float w, float h) {
    ImGui::SetNextWindowPos(ImVec2(x, y), ImGuiCond_Always);
    ImGui::SetNextWindowSize(ImVec2(w, h), ImGuiCond_Always);
  };
  place(0, 0, d.x, top);
  ImGui::Begin("Parallax", nullptr, fixed | ImGuiWindowFlags_NoTitleBar);
  draw_controls(session, snap, ui, teleop);
  ImGui::End();
  const float worlds_h = std::floor((d.y - top) * 0.58f);
  place(0, top, left, worlds_h);
  ImGui::Begin("Worlds: Bullet | world model | error", nullptr, fixed);
  draw_worlds(session, snap, ui, teleop);
  ImGui::End();
  place(0, top + worlds_h, left, d.y - top - worlds_h);
  ImGui::Begin("Envs and imagined futures", nullptr, fixed);
  if (ImGui::BeginTabBar("tabs")) {
    if (ImGui::BeginTabItem("Envs")) {
      draw_env_grid(session, snap, ui);
      ImGui::EndTabItem();
    }
    if (ImGui::BeginTabItem(
            "Futures", nullptr,
            session.futures() && ui.futures_version == 0 ? ImGuiTabItemFlags_SetSelected : 0)) {
      ui.futures_version = 1;
      draw_futures(session, snap, ui);
      ImGui::EndTabItem();
    }
    ImGui::EndTabBar();
  }
  ImGui::End();
  const float plots_h = std::floor((d.y - top) * 0.72f);
  place(left, top, d.x - left, plots_h);
  ImGui::Begin("Plots", nullptr, fixed);
  draw_plots(snap, ui);
  ImGui::End();
  place(left, top + plots_h, d.x - left, d.y - top - plots_h);
  ImGui::Begin("Scene and model", nullptr, fixed);
  draw_switch(session, snap, ui);
  ImGui::End();
}

}  // namespace parallax::viewer
