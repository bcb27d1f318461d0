// A "pose-dynamics" checkpoint for tests: a network whose output is a constant (every weight
// zero, the last bias given), written as worldmodel/python/train_pose_dynamics.py writes them.
// Include after <torch/torch.h> (and its `#undef CHECK`).
#pragma once

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace parallax::testing {

// DIR/NAME: the network's output is `bias` [3] (body frame, scaled as the trainer scales it).
inline std::string constant_model(const std::filesystem::path& dir, const std::string& name,
                                  const float bias[3], const std::string& scene = "push",
                                  int hidden = 8, double step_m = 0.5 / 30) {
  c10::Dict<std::string, torch::Tensor> w;
  const int in[4] = {7, hidden, hidden, hidden}, out[4] = {hidden, hidden, hidden, 3};
  for (int l = 0; l < 4; ++l) {
    const std::string k = std::to_string(2 * l);
    w.insert(k + ".weight", torch::zeros({out[l], in[l]}));
    w.insert(k + ".bias", torch::zeros({out[l]}));
  }
  w.insert_or_assign("6.bias", torch::tensor({bias[0], bias[1], bias[2]}));
  nlohmann::json cfg = {{"scene", scene},      {"driver", "pusher"}, {"pushed", "cube"},
                        {"hidden", hidden},    {"step_m", step_m},   {"position_scale_m", 0.1},
                        {"yaw_scale_rad", 0.1}};
  c10::impl::GenericDict d(c10::StringType::get(), c10::AnyType::get());
  d.insert(std::string("parallax_format"), std::string("parallax-model/2"));
  d.insert(std::string("family"), std::string("pose-dynamics"));
  d.insert(std::string("config"), cfg.dump());
  d.insert(std::string("weights"), w);
  const std::vector<char> bytes = torch::pickle_save(c10::IValue(d));
  const std::filesystem::path path = dir / name;
  std::ofstream(path, std::ios::binary)
      .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return path.string();
}

}  // namespace parallax::testing
