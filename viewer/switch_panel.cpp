// Scene and model switching without restarting: the shipped scenes, the models shipped for the
// chosen scene (assets/models/<scene>*.pt) and a path field. The session refuses an incompatible
// choice and keeps running; the reason is shown in the tool bar (Snapshot::message).
#include <algorithm>
#include <filesystem>

#include "parallax/sim/scene.hpp"
#include "ui.hpp"

namespace parallax::viewer {
namespace {

// Checkpoints next to the shipped scenes (assets/models), whose name starts with the scene's.
std::vector<std::string> shipped_models(const std::string& scene) {
  std::vector<std::string> out;
  std::error_code ec;
  const auto dir = sim::scenes_dir().parent_path() / "models";
  for (const auto& e : std::filesystem::directory_iterator(dir, ec))
    if (e.path().extension() == ".pt" && e.path().stem().string().rfind(scene, 0) == 0)
      out.push_back(e.path().string());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

void draw_switch(Session& session, const Snapshot& s, UiState& ui) {
  if (ui.scenes.empty()) ui.scenes = sim::shipped_scenes();
  if (ui.scenes.empty()) return;
  ui.scene_index = std::clamp(ui.scene_index, 0, static_cast<int>(ui.scenes.size()) - 1);
  ImGui::SetNextItemWidth(140);
  if (ImGui::BeginCombo("scene", ui.scenes[ui.scene_index].c_str())) {
    for (int i = 0; i < static_cast<int>(ui.scenes.size()); ++i)
      if (ImGui::Selectable(ui.scenes[i].c_str(), i == ui.scene_index)) ui.scene_index = i;
    ImGui::EndCombo();
  }
  ImGui::SameLine();
  if (ImGui::Button("Switch (shipped model)"))
    session.post([sc = ui.scenes[ui.scene_index]](Session& se) { se.switch_to(sc, ""); });
  for (const auto& m : shipped_models(ui.scenes[ui.scene_index])) {
    if (ImGui::SmallButton(("use " + std::filesystem::path(m).filename().string()).c_str()))
      session.post([sc = ui.scenes[ui.scene_index], m](Session& se) { se.switch_to(sc, m); });
    ImGui::SameLine();
  }
  ImGui::NewLine();
  ImGui::SetNextItemWidth(ImGui::GetContentRegionAvail().x - 120);
  ImGui::InputText("##model", ui.model_path, sizeof ui.model_path);
  ImGui::SameLine();
  if (ImGui::Button("Load model"))
    session.post([sc = ui.scenes[ui.scene_index], m = std::string(ui.model_path)](Session& se) {
      se.switch_to(sc, m);
    });
  ImGui::TextDisabled("now: %s, %s", s.scene.c_str(), s.model.c_str());
}

}  // namespace parallax::viewer
