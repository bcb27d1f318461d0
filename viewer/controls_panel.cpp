// The tool bar: play/pause/step/reset, modes (mirror, resync every N, dream) and resync now,
// the policy, teleoperation, overlays, recording and snapshots.
#include <algorithm>

#include "ui.hpp"

namespace parallax::viewer {

void draw_controls(Session& session, const Snapshot& s, UiState& ui, Teleop& teleop) {
  ImGui::Text("scene '%s' | %d envs | tick %d | %.0f ticks/s | mode %s", s.scene.c_str(), s.n,
              s.tick, s.ticks_per_second, s.mode.c_str());
  ImGui::SameLine();
  ImGui::TextDisabled("| model: %s", s.model.c_str());
  if (s.planner_ms >= 0) {
    ImGui::SameLine();
    ImGui::TextDisabled("| planner %.0f ms/decision (median of the last 32; %d decisions)",
                        s.planner_ms, s.planner_decisions);
  }
  if (ImGui::Button(session.playing() ? "Pause" : "Play")) session.set_playing(!session.playing());
  ImGui::SameLine();
  if (ImGui::Button("Step")) session.request_step();
  ImGui::SameLine();
  if (ImGui::Button("Reset")) session.post([](Session& se) { se.reset(); });
  ImGui::SameLine();
  if (ImGui::Checkbox("max speed", &ui.max_speed)) session.set_max_speed(ui.max_speed);
  // Modes.
  ImGui::SameLine();
  ImGui::TextUnformatted("| mode:");
  for (const char* m : {"mirror", "resync", "dream"}) {
    ImGui::SameLine();
    if (ImGui::RadioButton(m, s.mode == m))
      session.post([mode = std::string(m), n = ui.resync_every](Session& se) {
        se.set_mode(mode, mode == "mirror" ? 0 : n);
      });
  }
  ImGui::SameLine();
  ImGui::SetNextItemWidth(100);
  if (ImGui::SliderInt("every N", &ui.resync_every, 1, 60) && s.mode != "mirror")
    session.post([mode = s.mode, n = ui.resync_every](Session& se) { se.set_mode(mode, n); });
  ImGui::SameLine();
  if (ImGui::Button("Resync now (n)")) session.post([](Session& se) { se.resync_now(); });
  // Policy.
  ImGui::SameLine();
  ImGui::SetNextItemWidth(110);
  if (ImGui::BeginCombo("policy", s.policy.c_str())) {
    for (const char* p : {"random", "noisy", "expert", "planner"})
      if (ImGui::Selectable(p, s.policy == p))
        session.post([name = std::string(p)](Session& se) { se.set_policy(name); });
    ImGui::EndCombo();
  }
  ImGui::SameLine();
  if (ImGui::Checkbox("teleop env 0 (t)", &ui.teleop) && !ui.teleop) teleop.clear_drag();
  ImGui::SameLine();
  ImGui::Checkbox("overlays", &ui.overlays);
  ImGui::SameLine();
  if (ImGui::Button(ui.recording ? "Stop recording (r)" : "Record MP4 (r)"))
    ui.toggle_record = true;
  ImGui::SameLine();
  if (ImGui::Button("PNG (p)")) ui.take_snapshot = true;
  if (!s.message.empty()) {
    ImGui::SameLine();
    const bool bad =
        s.message.rfind("refused", 0) == 0 || s.message.find(" refused") != std::string::npos;
    ImGui::TextColored(bad ? ImVec4(1, 0.4f, 0.3f, 1) : ImVec4(0.6f, 0.9f, 0.6f, 1), "%s",
                       s.message.c_str());
  }
}

}  // namespace parallax::viewer
