// Worlds panel (true | predicted | error heat map with its scale, overlays, mouse drag) and the
// grid of env thumbnails.
#include <algorithm>
#include <cmath>

#include "parallax/media/error_map.hpp"
#include "ui.hpp"

namespace parallax::viewer {

void log_rect(UiState& ui, const std::string& name) {
  const ImVec2 a = ImGui::GetItemRectMin(), b = ImGui::GetItemRectMax();
  ui.rects.emplace_back(name, ImVec4(a.x, a.y, b.x, b.y));
}

namespace {

// Crosses at body centroids: true (white) from the renderer's ids, predicted (red) from colour.
void draw_overlay(const Snapshot& s, const std::vector<agents::Centroid>& c, ImVec2 origin,
                  float scale, ImU32 color) {
  ImDrawList* dl = ImGui::GetWindowDrawList();
  for (std::size_t k = 1; k < c.size(); ++k) {
    if (c[k].pixels < 4) continue;
    const ImVec2 p(origin.x + static_cast<float>(c[k].x) * scale,
                   origin.y + static_cast<float>(c[k].y) * scale);
    dl->AddLine(ImVec2(p.x - 6, p.y), ImVec2(p.x + 6, p.y), color, 2.0f);
    dl->AddLine(ImVec2(p.x, p.y - 6), ImVec2(p.x, p.y + 6), color, 2.0f);
    if (k < s.class_names.size())
      dl->AddText(ImVec2(p.x + 5, p.y + 2), color, s.class_names[k].c_str());
  }
}

}  // namespace

void draw_worlds(Session& session, const Snapshot& s, UiState& ui, Teleop& teleop) {
  (void)session;
  if (s.n == 0) return;
  const std::size_t f = static_cast<std::size_t>(s.h) * s.w * 3;
  const std::uint8_t* t = s.true_rgb.data() + s.env * f;
  const std::uint8_t* p = s.pred_rgb.data() + s.env * f;
  ui.true_tex.upload(t, s.w, s.h);
  ui.pred_tex.upload(p, s.w, s.h);
  // Error heat map with a fixed scale (comparable across ticks and envs).
  std::vector<float> err(static_cast<std::size_t>(s.h) * s.w);
  ui.err_rgb.resize(f);
  ui.err_peak = media::abs_error({t, f}, {p, f}, s.h, s.w, err);
  media::color_error(err, s.h, s.w, kErrorScale, ui.err_rgb);
  ui.err_tex.upload(ui.err_rgb.data(), s.w, s.h);

  // As large as the window allows, in whole texels (nearest filtering stays exact).
  const float avail = ImGui::GetContentRegionAvail().x;
  const float gap = ImGui::GetStyle().ItemSpacing.x;
  const float avail_h =
      ImGui::GetContentRegionAvail().y - 3 * ImGui::GetTextLineHeightWithSpacing();
  const int zoom =
      std::max(1, static_cast<int>(std::min((avail - 2 * gap) / 3 / s.w, avail_h / s.h)));
  const ImVec2 size(static_cast<float>(s.w * zoom), static_cast<float>(s.h * zoom));

  ImGui::BeginGroup();
  ImGui::Text("true (Bullet), env %d", s.env);
  const ImVec2 true_at = ImGui::GetCursorScreenPos();
  ImGui::Image(ui.true_tex.imgui_id(), size);
  log_rect(ui, "true");
  // Mouse drag on the true frame: a planar action for env 0 (teleoperation).
  if (ImGui::IsItemHovered() && ImGui::IsMouseClicked(ImGuiMouseButton_Left)) {
    ui.dragging = true;
    ui.drag_from = ImGui::GetMousePos();
    ui.teleop = true;
  }
  if (ui.dragging) {
    if (ImGui::IsMouseDown(ImGuiMouseButton_Left)) {
      const ImVec2 m = ImGui::GetMousePos();
      teleop.set_drag((m.x - ui.drag_from.x) / zoom, (m.y - ui.drag_from.y) / zoom,
                      static_cast<float>(s.w));
      ImGui::GetWindowDrawList()->AddLine(ui.drag_from, m, IM_COL32(255, 255, 0, 255), 2.0f);
    } else {
      ui.dragging = false;
      teleop.clear_drag();
    }
  }
  if (ui.overlays)
    draw_overlay(s, s.true_centroids, true_at, static_cast<float>(zoom),
                 IM_COL32(255, 255, 255, 255));
  ImGui::EndGroup();
  ImGui::SameLine();
  ImGui::BeginGroup();
  ImGui::TextUnformatted("predicted (world model)");
  const ImVec2 pred_at = ImGui::GetCursorScreenPos();
  ImGui::Image(ui.pred_tex.imgui_id(), size);
  log_rect(ui, "predicted");
  if (ui.overlays) {
    draw_overlay(s, s.pred_centroids, pred_at, static_cast<float>(zoom),
                 IM_COL32(255, 80, 80, 255));
    draw_overlay(s, s.true_centroids, pred_at, static_cast<float>(zoom),
                 IM_COL32(255, 255, 255, 160));
  }
  ImGui::EndGroup();
  ImGui::SameLine();
  ImGui::BeginGroup();
  ImGui::Text("|error|, peak %.3f", ui.err_peak);
  ImGui::Image(ui.err_tex.imgui_id(), size);
  log_rect(ui, "error");
  // The scale: a colour bar from 0 to kErrorScale.
  if (ui.bar_tex.id == 0) {
    std::vector<std::uint8_t> bar(static_cast<std::size_t>(4) * 128 * 3);  // [4, 128, 3]
    media::color_bar(4, 128, bar);
    ui.bar_tex.upload(bar.data(), 128, 4);
  }
  ImGui::Image(ui.bar_tex.imgui_id(), ImVec2(size.x, 10));
  log_rect(ui, "error scale");
  ImGui::Text("0");
  ImGui::SameLine(size.x - 40);
  ImGui::Text(">= %.2f", kErrorScale);
  ImGui::EndGroup();
  if (!s.metrics.empty()) {
    const auto& m = s.metrics[s.env];
    ImGui::Text("tick %d  MSE %.5f  PSNR %.2f dB  SSIM %.4f  reward true %.3f pred %.3f", s.tick,
                m.mse, std::isfinite(m.psnr) ? m.psnr : 99.0, m.ssim, m.reward_true, m.reward_pred);
  }
}

void draw_env_grid(Session& session, const Snapshot& s, UiState& ui) {
  const std::size_t f = static_cast<std::size_t>(s.h) * s.w * 3;
  ui.thumbs.resize(s.n);
  const float side = 56.0f;
  const int per_row = std::max(1, static_cast<int>(ImGui::GetContentRegionAvail().x / (side + 10)));
  for (int i = 0; i < s.n; ++i) {
    ui.thumbs[i].upload(s.true_rgb.data() + i * f, s.w, s.h);
    ImGui::PushID(i);
    const bool sel = i == s.env;
    if (sel) ImGui::PushStyleColor(ImGuiCol_Button, IM_COL32(240, 200, 40, 255));
    if (ImGui::ImageButton(ui.thumbs[i].imgui_id(), ImVec2(side, side))) {
      ui.env = i;
      session.select_env(i);
    }
    log_rect(ui, "env " + std::to_string(i));
    if (sel) ImGui::PopStyleColor();
    if (ImGui::IsItemHovered() && !s.metrics.empty())
      ImGui::SetTooltip("env %d: PSNR %.1f dB, return %.2f", i, s.metrics[i].psnr,
                        s.returns_true.empty() ? 0.0 : s.returns_true[i]);
    ImGui::PopID();
    if ((i + 1) % per_row != 0 && i + 1 < s.n) ImGui::SameLine();
  }
}

}  // namespace parallax::viewer
