// Plots: PSNR per tick; PSNR and position error against horizon since the last reset; reward
// true against predicted; returns per env; the UI frame time and the tick rate.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "ui.hpp"

namespace parallax::viewer {
namespace {

void plot(UiState& ui, const char* name, const std::vector<float>& v, const char* overlay,
          float lo = FLT_MAX, float hi = FLT_MAX, float height = 60) {
  ImGui::PlotLines(name, v.data(), static_cast<int>(v.size()), 0, overlay, lo, hi,
                   ImVec2(ImGui::GetContentRegionAvail().x - 110, height));
  log_rect(ui, name);
}

}  // namespace

void draw_plots(const Snapshot& s, UiState& ui) {
  char text[128];
  // Per tick, the selected env.
  const std::vector<float> psnr(s.psnr.begin(), s.psnr.end());
  std::snprintf(text, sizeof text, "%.1f dB", psnr.empty() ? 0.0f : psnr.back());
  plot(ui, "PSNR per tick", psnr, text);
  // Against horizon: ticks since the dream last saw a true frame, averaged since the reset.
  const auto ph = s.horizon.psnr_mean();
  std::snprintf(text, sizeof text, "1..%zu ticks", ph.size());
  plot(ui, "PSNR vs horizon", ph, text);
  const auto eh = s.horizon.position_mean();
  plot(ui, "pos. error vs horizon (px)", eh, nullptr, 0.0f);
  // Rewards: true (line) and predicted (overlaid, same scale).
  const std::vector<float> rt(s.reward_true.begin(), s.reward_true.end());
  const std::vector<float> rp(s.reward_pred.begin(), s.reward_pred.end());
  float lo = 0, hi = 0;
  for (float v : rt) lo = std::min(lo, v), hi = std::max(hi, v);
  for (float v : rp) lo = std::min(lo, v), hi = std::max(hi, v);
  if (hi <= lo) hi = lo + 1;
  const ImVec2 at = ImGui::GetCursorPos();
  plot(ui, "reward true / pred", rt, nullptr, lo, hi);
  ImGui::SetCursorPos(at);
  ImGui::PushStyleColor(ImGuiCol_PlotLines, IM_COL32(255, 120, 60, 255));
  ImGui::PushStyleColor(ImGuiCol_FrameBg, IM_COL32(0, 0, 0, 0));
  ImGui::PlotLines("##pred", rp.data(), static_cast<int>(rp.size()), 0, nullptr, lo, hi,
                   ImVec2(ImGui::GetContentRegionAvail().x - 110, 60));
  ImGui::PopStyleColor(2);
  // Returns per env since its reset: true and predicted side by side.
  std::vector<float> ret;
  for (int i = 0; i < static_cast<int>(s.returns_true.size()); ++i) {
    ret.push_back(static_cast<float>(s.returns_true[i]));
    ret.push_back(static_cast<float>(s.returns_pred[i]));
  }
  ImGui::PlotHistogram("returns (true, pred)", ret.data(), static_cast<int>(ret.size()), 0, nullptr,
                       FLT_MAX, FLT_MAX, ImVec2(ImGui::GetContentRegionAvail().x - 110, 50));
  log_rect(ui, "returns (true, pred)");
  // Frame time and tick rate.
  const std::vector<float> ft(ui.frame_ms.begin(), ui.frame_ms.end());
  std::snprintf(text, sizeof text, "%.1f ms/frame, %.0f ticks/s (scene %d)",
                ft.empty() ? 0.0f : ft.back(), s.ticks_per_second, s.control_hz);
  plot(ui, "frame time", ft, text, 0.0f, 50.0f, 40);
}

}  // namespace parallax::viewer
