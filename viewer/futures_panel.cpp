// Imagined futures: K futures of the selected env side by side (imagined over Bullet's replay),
// at one step of the horizon, with their returns and the planner's pick.
#include <algorithm>

#include "ui.hpp"

namespace parallax::viewer {

void draw_futures(Session& session, const Snapshot& s, UiState& ui) {
  ImGui::SetNextItemWidth(120);
  ImGui::SliderInt("K", &ui.futures_k, 1, 16);
  ImGui::SameLine();
  ImGui::SetNextItemWidth(120);
  ImGui::SliderInt("horizon", &ui.futures_horizon, 1, 64);
  ImGui::SameLine();
  ImGui::Checkbox("planner candidates", &ui.futures_planner);
  ImGui::SameLine();
  if (ImGui::Button("Imagine (f)"))
    session.post([k = ui.futures_k, h = ui.futures_horizon,
                  src = std::string(ui.futures_planner ? "planner" : "random")](Session& se) {
      se.imagine(k, src, h);
    });
  const auto f = session.futures();
  if (!f) {
    ImGui::TextUnformatted("No futures yet: press Imagine (or f).");
    return;
  }
  ui.futures_step = std::clamp(ui.futures_step, 0, f->l - 1);
  ImGui::SetNextItemWidth(200);
  ImGui::SliderInt("step", &ui.futures_step, 0, f->l - 1);
  // Atlas [2H, K*W, 3]: row 0 imagined, row 1 what Bullet did.
  const int w = f->w, h = f->h, k = f->k;
  std::vector<std::uint8_t> atlas(static_cast<std::size_t>(2 * h) * k * w * 3, 0);
  for (int i = 0; i < k; ++i)
    for (int row = 0; row < 2; ++row) {
      const auto src = row == 0 ? f->frame(i, ui.futures_step)
                                : (f->bullet_frames.empty() ? f->frame(i, ui.futures_step)
                                                            : f->bullet_frame(i, ui.futures_step));
      for (int y = 0; y < h; ++y)
        std::copy_n(src.data() + static_cast<std::size_t>(y) * w * 3, w * 3,
                    atlas.data() + ((static_cast<std::size_t>(row * h + y) * k + i) * w) * 3);
    }
  ui.futures_tex.upload(atlas.data(), k * w, 2 * h);
  const float side = std::min(96.0f, (ImGui::GetContentRegionAvail().x - 8) / k);
  const ImVec2 at = ImGui::GetCursorScreenPos();
  ImGui::Image(ui.futures_tex.imgui_id(), ImVec2(side * k, side * 2 * h / w));
  log_rect(ui, "futures");
  // The pick: a yellow frame around the chosen future.
  ImGui::GetWindowDrawList()->AddRect(
      ImVec2(at.x + side * f->chosen, at.y),
      ImVec2(at.x + side * (f->chosen + 1), at.y + side * 2 * h / w), IM_COL32(255, 220, 0, 255), 0,
      0, 3.0f);
  ImGui::TextUnformatted("top: imagined; bottom: what Bullet did with the same actions");
  for (int i = 0; i < k; ++i) {
    ImGui::Text("%s#%d imagined %.3f  Bullet %.3f", i == f->chosen ? "> " : "  ", i, f->returns[i],
                f->bullet_returns.empty() ? 0.0 : f->bullet_returns[i]);
    if ((i + 1) % 2 != 0 && i + 1 < k) ImGui::SameLine(ImGui::GetContentRegionAvail().x / 2);
  }
  (void)s;
}

}  // namespace parallax::viewer
