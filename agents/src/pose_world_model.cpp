// The pose-world family (pose_world_model.hpp).
#include <torch/torch.h>

#include "parallax/agents/pose_world_model.hpp"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <vector>

#include "parallax/agents/body_locator.hpp"
#include "parallax/agents/pose_reward.hpp"
#include "parallax/sim/render_inputs.hpp"
#include "parallax/sim/renderer.hpp"
#include "parallax/worldmodel/model_file.hpp"

namespace parallax::agents {
namespace {

constexpr int kHistory = 4;        // positions the network reads
constexpr int kActionHistory = 3;  // actions the network reads (a_t-2, a_t-1, a_t)

class PoseWorldModel final : public worldmodel::WorldModel {
 public:
  PoseWorldModel(std::shared_ptr<const sim::SceneModel> scene, const worldmodel::ModelFile& f,
                 const std::string& path)
      : scene_(std::move(scene)) {
    const std::string where = "checkpoint '" + path + "'";
    const worldmodel::ModelFile* file = &f;
    if (file->family != "pose-world")
      throw std::runtime_error(where + ": field 'family' is '" + file->family +
                               "', expected 'pose-world'");
    nlohmann::json c;
    try {
      c = nlohmann::json::parse(file->config);
    } catch (const nlohmann::json::exception&) {
      throw std::runtime_error(where + ": field 'config' is not JSON");
    }
    if (!c.is_object()) throw std::runtime_error(where + ": field 'config' is not a JSON object");
    auto num = [&](const char* key, double lo, double hi, bool integer) {
      if (!c.contains(key) || !c[key].is_number())
        throw std::runtime_error(where + ": config field '" + key + "' is missing or not a number");
      const double v = c[key].get<double>();
      if (!std::isfinite(v) || v < lo || v > hi || (integer && v != std::floor(v)))
        throw std::runtime_error(
            where + ": config field '" + key + "' is " + nlohmann::json(v).dump() + ", expected " +
            (integer ? "an integer" : "a number") + " in [" + nlohmann::json(lo).dump() + ", " +
            nlohmann::json(hi).dump() + "]");
      return v;
    };
    if (!c.contains("scene") || !c["scene"].is_string())
      throw std::runtime_error(where + ": config field 'scene' is missing or not a name");
    const std::string trained_on = c["scene"].get<std::string>();
    if (trained_on != scene_->name)
      throw std::runtime_error("model " + path + " was trained on scene '" + trained_on +
                               "', not '" + scene_->name + "'");
    if (!c.contains("bodies") || !c["bodies"].is_array() || c["bodies"].empty())
      throw std::runtime_error(where + ": config field 'bodies' is missing or empty");
    for (const auto& b : c["bodies"]) {
      if (!b.is_string())
        throw std::runtime_error(where + ": config field 'bodies' holds a non-name");
      bodies_.push_back(b.get<std::string>());
    }
    if (num("history", 1, 64, true) != kHistory ||
        num("action_history", 1, 64, true) != kActionHistory)
      throw std::runtime_error(where + ": config fields 'history' and 'action_history' must be " +
                               std::to_string(kHistory) + " and " + std::to_string(kActionHistory));
    if (c.contains("rolling_state")) {
      if (!c["rolling_state"].is_boolean())
        throw std::runtime_error(where + ": config field 'rolling_state' is " +
                                 c["rolling_state"].dump() + ", expected true or false");
      rolling_ = c["rolling_state"].get<bool>();
    }
    const int a = static_cast<int>(num("action_size", 1, 64, true));
    hidden_ = static_cast<int>(num("hidden", 8, 4096, true));
    step_m_ = num("step_m", 1e-6, 10, false);
    position_scale_ = num("position_scale_m", 1e-6, 100, false);
    check_scene(where, a);

    const int p = static_cast<int>(bodies_.size());
    // With the rolling state the network also reads each body's rolling displacement and the
    // carried flag, and writes the change of the rolling displacement after the positions'.
    const int n_in = 2 * p * kHistory + a * kActionHistory + (rolling_ ? 2 * p + 1 : 0);
    net_ = torch::nn::Sequential(torch::nn::Linear(n_in, hidden_), torch::nn::SiLU(),
                                 torch::nn::Linear(hidden_, hidden_), torch::nn::SiLU(),
                                 torch::nn::Linear(hidden_, hidden_), torch::nn::SiLU(),
                                 torch::nn::Linear(hidden_, (rolling_ ? 4 : 2) * p));
    worldmodel::load_weights(*net_, file->weights, where);

    locator_ = std::make_unique<BodyLocator>(scene_, bodies_);
    renderer_ = std::make_unique<sim::Renderer>(scene_, sim::RenderOptions{.threads = 1});
    reward_ = std::make_unique<PoseReward>(*scene_, bodies_);
    info_.family = "pose-world";
    info_.height = scene_->camera.height;
    info_.width = scene_->camera.width;
    info_.action_size = a;
    info_.context_frames = kHistory;
    info_.latent_step = true;
    info_.config_json = file->config;
    info_.pose_bodies = bodies_;
    for (const auto& t : net_->parameters()) info_.parameters += t.numel();
  }

  const worldmodel::ModelInfo& info() const override { return info_; }
  torch::nn::Module& module() override { return *net_; }

  worldmodel::SlotState initial_state(int64_t batch, torch::Device device) override {
    const auto f = torch::TensorOptions().dtype(torch::kFloat).device(device);
    const int64_t p = static_cast<int64_t>(bodies_.size()), a = info_.action_size;
    worldmodel::SlotState s{
        torch::zeros({batch, kHistory, p, 2}, f), torch::zeros({batch, kActionHistory - 1, a}, f),
        torch::zeros({batch, static_cast<int64_t>(scene_->markers.size()), 2}, f),
        torch::zeros({batch, p}, f)};
    if (rolling_)
      s.push_back(torch::zeros({batch, p, 2}, f)), s.push_back(torch::zeros({batch, 1}, f));
    return s;
  }

  worldmodel::SlotState encode_context(const torch::Tensor& frames, const torch::Tensor& actions,
                                       const worldmodel::StepContext& /*ctx*/) override {
    const int64_t b = frames.size(0), have = frames.size(1);
    const int64_t p = static_cast<int64_t>(bodies_.size()), m = scene_->markers.size();
    const int64_t a = info_.action_size;
    const auto u8 = to_hwc_u8(frames.reshape({b * have, 3, info_.height, info_.width}));
    const auto acts = actions.to(torch::kCPU, torch::kFloat).contiguous();
    std::vector<float> hist(b * kHistory * p * 2), prev(b * (kActionHistory - 1) * a, 0.f),
        markers(b * m * 2), visible(b * p, 0.f);
    const std::size_t frame = static_cast<std::size_t>(info_.height) * info_.width * 3;
    std::vector<float> xy(p * 2), mk(m * 2);
    std::vector<std::uint8_t> found(p);
    for (int64_t r = 0; r < b; ++r) {
      // Read every context frame (oldest first), each from the frame before's estimate where the
      // colour finder agrees with it. A body a frame does not show takes its nearest reading in
      // time (an earlier one, else the first later one).
      std::vector<std::vector<float>> read(have);
      std::vector<std::vector<std::uint8_t>> shown(have);
      std::fill(xy.begin(), xy.end(), 0.f);
      for (int64_t t = 0; t < have; ++t) {
        locator_->locate(u8.data_ptr<std::uint8_t>() + (r * have + t) * frame, xy, found, mk,
                         t > 0);
        read[t] = xy;
        shown[t] = found;
      }
      for (int64_t k = 0; k < p; ++k) {
        int64_t first = -1;
        for (int64_t t = 0; t < have && first < 0; ++t)
          if (shown[t][k]) first = t;
        visible[r * p + k] = first >= 0 ? 1.f : 0.f;
        for (int64_t t = 0; t < have; ++t) {
          const int64_t from = t < first ? first : t;
          if (first >= 0 && !shown[t][k] && t > first) {  // keep the last reading
            read[t][k * 2] = read[t - 1][k * 2], read[t][k * 2 + 1] = read[t - 1][k * 2 + 1];
          } else if (first >= 0) {
            read[t][k * 2] = read[from][k * 2], read[t][k * 2 + 1] = read[from][k * 2 + 1];
          }
        }
      }
      std::copy(mk.begin(), mk.end(), markers.begin() + r * m * 2);
      // History: the last kHistory readings, the oldest repeated before a short context (at rest
      // before the episode, as in training).
      for (int64_t h = 0; h < kHistory; ++h) {
        const int64_t t = std::max<int64_t>(0, have - kHistory + h);
        std::copy(read[t].begin(), read[t].end(), hist.begin() + (r * kHistory + h) * p * 2);
      }
      // The actions before the newest frame and the one before it (zeros before the episode).
      for (int64_t j = 0; j < kActionHistory - 1; ++j) {
        const int64_t t = have - (kActionHistory - 1) + j;
        if (t < 0 || t >= have) continue;
        for (int64_t i = 0; i < a; ++i)
          prev[(r * (kActionHistory - 1) + j) * a + i] =
              std::clamp(acts[r][t][i].item<float>(), -1.f, 1.f);
      }
    }
    const auto dev = frames.device();
    auto f = [&](std::vector<float>& v, std::vector<int64_t> shape) {
      return torch::from_blob(v.data(), shape, torch::kFloat).clone().to(dev);
    };
    worldmodel::SlotState s{f(hist, {b, kHistory, p, 2}), f(prev, {b, kActionHistory - 1, a}),
                            f(markers, {b, m, 2}), f(visible, {b, p})};
    if (rolling_) {  // taken to roll: the last displacement, not carried (as training starts)
      s.push_back(s[0].select(1, kHistory - 1) - s[0].select(1, kHistory - 2));
      s.push_back(torch::zeros({b, 1}, s[0].options()));
    }
    return s;
  }

  worldmodel::SlotState step(const worldmodel::SlotState& state, const torch::Tensor& actions,
                             const worldmodel::StepContext& /*ctx*/) override {
    const auto& hist = state[0];
    const int64_t b = hist.size(0);
    const auto acts = actions.to(hist.device(), torch::kFloat).clamp(-1.f, 1.f);
    const auto pos = hist.select(1, kHistory - 1);
    std::vector<torch::Tensor> x{(pos / position_scale_).reshape({b, -1})};
    for (int j = 0; j < kHistory - 1; ++j)
      x.push_back(((hist.select(1, kHistory - 1 - j) - hist.select(1, kHistory - 2 - j)) / step_m_)
                      .reshape({b, -1}));
    x.push_back(state[1].reshape({b, -1}));
    x.push_back(acts);
    if (rolling_) {
      x.push_back((state[4] / step_m_).reshape({b, -1}));
      x.push_back(state[5]);
    }
    const auto out = net_->forward(torch::cat(x, 1));
    const int64_t n = pos.size(1) * 2;
    const auto dd = out.narrow(1, 0, n).reshape(pos.sizes()) * step_m_;
    // A body out of view stays where it was last seen (it is not drawn).
    const auto moving = state[3].unsqueeze(-1);
    const auto next = pos + ((pos - hist.select(1, kHistory - 2)) + dd) * moving;
    worldmodel::SlotState s{
        torch::cat({hist.narrow(1, 1, kHistory - 1), next.unsqueeze(1)}, 1),
        torch::cat({state[1].narrow(1, 1, kActionHistory - 2), acts.unsqueeze(1)}, 1), state[2],
        state[3]};
    if (rolling_) {
      s.push_back(state[4] + out.narrow(1, n, n).reshape(pos.sizes()) * step_m_ * moving);
      s.push_back(torch::ones_like(state[5]));
    }
    return s;
  }

  worldmodel::SlotState observe(const worldmodel::SlotState& state, const torch::Tensor& frames,
                                const worldmodel::StepContext& /*ctx*/) override {
    const int64_t b = frames.size(0), p = static_cast<int64_t>(bodies_.size());
    const int64_t m = scene_->markers.size();
    const auto u8 = to_hwc_u8(frames);
    auto hist = state[0].to(torch::kCPU).contiguous().clone();
    auto markers = state[2].to(torch::kCPU).contiguous().clone();
    auto visible = state[3].to(torch::kCPU).contiguous().clone();
    const std::size_t frame = static_cast<std::size_t>(info_.height) * info_.width * 3;
    std::vector<float> xy(p * 2), mk(m * 2);
    std::vector<std::uint8_t> found(p);
    for (int64_t r = 0; r < b; ++r) {
      float* newest = hist[r][kHistory - 1].data_ptr<float>();
      std::copy(newest, newest + p * 2, xy.begin());
      std::copy_n(markers[r].data_ptr<float>(), m * 2, mk.begin());
      // From the model's estimate; a body it never saw is searched from the colour finder's guess.
      bool all_known = true;
      for (int64_t k = 0; k < p; ++k) all_known &= visible[r][k].item<float>() > 0.5f;
      locator_->locate(u8.data_ptr<std::uint8_t>() + r * frame, xy, found, mk, all_known);
      for (int64_t k = 0; k < p; ++k) {
        if (!found[k]) continue;
        newest[k * 2] = xy[k * 2], newest[k * 2 + 1] = xy[k * 2 + 1];
        visible[r][k] = 1.f;
      }
      std::copy(mk.begin(), mk.end(), markers[r].data_ptr<float>());
    }
    const auto dev = state[0].device();
    // The rolling state stays the model's own: a frame does not show spin.
    auto s = state;
    s[0] = hist.to(dev), s[2] = markers.to(dev), s[3] = visible.to(dev);
    return s;
  }

  torch::Tensor decode(const worldmodel::SlotState& state) override {
    const int64_t b = state[0].size(0), p = static_cast<int64_t>(bodies_.size());
    const int64_t m = scene_->markers.size(), k = scene_->bodies.size();
    const auto pos = state[0].select(1, kHistory - 1).to(torch::kCPU).contiguous();
    const auto markers = state[2].to(torch::kCPU).contiguous();
    const auto visible = state[3].to(torch::kCPU).contiguous();
    std::vector<float> poses(b * k * 7), mk(b * std::max<int64_t>(m, 1) * 3);
    std::vector<std::uint8_t> vis(p);
    const float* all_xy = pos.data_ptr<float>();
    const float* all_markers = markers.data_ptr<float>();
    const float* all_visible = visible.data_ptr<float>();
    for (int64_t r = 0; r < b; ++r) {
      for (int64_t j = 0; j < p; ++j) vis[j] = all_visible[r * p + j] > 0.5f;
      locator_->scene_at({all_xy + r * p * 2, static_cast<std::size_t>(p * 2)}, vis,
                         {all_markers + r * m * 2, static_cast<std::size_t>(m * 2)},
                         poses.data() + r * k * 7, mk.data() + r * std::max<int64_t>(m, 1) * 3);
    }
    auto rgb = torch::empty({b, info_.height, info_.width, 3}, torch::kUInt8);
    renderer_->render(
        sim::RenderInputs{
            .n = static_cast<int>(b), .poses = poses.data(), .markers = m ? mk.data() : nullptr},
        rgb.data_ptr<std::uint8_t>());
    return (rgb.permute({0, 3, 1, 2}).to(torch::kFloat) / 255.0f)
        .contiguous()
        .to(state[0].device());
  }

  torch::Tensor reward(const worldmodel::SlotState& state) override {
    return evaluate(state, false);
  }
  torch::Tensor cont(const worldmodel::SlotState& state) override { return evaluate(state, true); }
  torch::Tensor poses(const worldmodel::SlotState& state) override {
    return state[0].select(1, kHistory - 1);
  }

 private:
  // The scene's reward terms (or 1 - terminated) on each row's newest positions.
  torch::Tensor evaluate(const worldmodel::SlotState& state, bool continuing) {
    const int64_t b = state[0].size(0), p = static_cast<int64_t>(bodies_.size());
    const int64_t m = scene_->markers.size();
    const auto pos = state[0].select(1, kHistory - 1).to(torch::kCPU).contiguous();
    const auto markers = state[2].to(torch::kCPU).contiguous();
    std::vector<float> out(b), xyz(m * 3);
    std::vector<std::uint8_t> fired(reward_->success_terms());
    const float* all_xy = pos.data_ptr<float>();
    const float* all_markers = markers.data_ptr<float>();
    for (int64_t r = 0; r < b; ++r) {
      for (int64_t j = 0; j < m; ++j) {
        xyz[j * 3] = all_markers[(r * m + j) * 2];
        xyz[j * 3 + 1] = all_markers[(r * m + j) * 2 + 1];
        xyz[j * 3 + 2] = static_cast<float>(scene_->markers[j].position[2]);
      }
      reward_->set_markers(xyz);
      std::fill(fired.begin(), fired.end(), 0);
      bool terminated = false;
      const float* xy = all_xy + r * p * 2;
      const double rw = reward_->evaluate({xy, static_cast<std::size_t>(p * 2)}, fired, terminated);
      for (const auto& [k, bound] : out_of_bounds_)
        if (std::abs(xy[k * 2]) > bound || std::abs(xy[k * 2 + 1]) > bound) terminated = true;
      out[r] = continuing ? (terminated ? 0.f : 1.f) : static_cast<float>(rw);
    }
    return torch::from_blob(out.data(), {b}, torch::kFloat).clone().to(state[0].device());
  }

  // Refuses a scene this family cannot model: bodies it was not trained on, dynamic bodies it
  // does not model, action sizes, terminations it cannot evaluate.
  void check_scene(const std::string& where, int action_size) {
    const auto& sc = *scene_;
    if (action_size != sc.action_size())
      throw std::runtime_error(where + ": config field 'action_size' is " +
                               std::to_string(action_size) + ", scene '" + sc.name + "' has " +
                               std::to_string(sc.action_size()));
    for (const auto& name : bodies_)
      if (sc.body_index(name) < 0)
        throw std::runtime_error(where + ": config field 'bodies' names '" + name +
                                 "', which scene '" + sc.name + "' does not have");
    for (const auto& b : sc.bodies)
      if (b.mass > 0 && !b.kinematic &&
          std::find(bodies_.begin(), bodies_.end(), b.name) == bodies_.end())
        throw std::runtime_error(where + ": scene '" + sc.name + "' body '" + b.name +
                                 "' is dynamic but not modelled (config field 'bodies')");
    for (const auto& t : sc.terminations) {
      const auto it = std::find(bodies_.begin(), bodies_.end(), t.body);
      if (t.type != sim::TerminationType::kOutOfBounds || it == bodies_.end())
        throw std::runtime_error(where + ": scene '" + sc.name +
                                 "' has a termination the pose-world family cannot evaluate "
                                 "(only out_of_bounds of a modelled body)");
      out_of_bounds_.emplace_back(static_cast<int>(it - bodies_.begin()), t.value);
    }
  }

  // Frames [N, 3, H, W] (u8, or f32 in [0, 1]) -> [N, H, W, 3] u8 on the CPU.
  static torch::Tensor to_hwc_u8(const torch::Tensor& frames) {
    auto f = frames.to(torch::kCPU);
    if (f.scalar_type() != torch::kUInt8)
      f = (f.to(torch::kFloat) * 255.0f).round().clamp(0, 255).to(torch::kUInt8);
    return f.permute({0, 2, 3, 1}).contiguous();
  }

  std::shared_ptr<const sim::SceneModel> scene_;
  std::vector<std::string> bodies_;
  int hidden_ = 0;
  bool rolling_ = false;  // config 'rolling_state': state [4] rolling displacement, [5] carried
  double step_m_ = 0.01, position_scale_ = 0.5;
  torch::nn::Sequential net_{nullptr};
  std::unique_ptr<BodyLocator> locator_;
  std::unique_ptr<sim::Renderer> renderer_;
  std::unique_ptr<PoseReward> reward_;
  std::vector<std::pair<int, double>> out_of_bounds_;
  worldmodel::ModelInfo info_;
};

}  // namespace

std::shared_ptr<worldmodel::WorldModel> load_pose_world_model(
    std::shared_ptr<const sim::SceneModel> scene, const std::string& path, torch::Device device) {
  const auto file = worldmodel::read_model_file(path);
  if (!file)
    throw std::runtime_error("checkpoint '" + path + "': an RSSM archive, not a pose-world model");
  return load_pose_world_model(std::move(scene), *file, path, device);
}

std::shared_ptr<worldmodel::WorldModel> load_pose_world_model(
    std::shared_ptr<const sim::SceneModel> scene, const worldmodel::ModelFile& file,
    const std::string& path, torch::Device device) {
  std::shared_ptr<PoseWorldModel> model;
  try {
    model = std::make_shared<PoseWorldModel>(std::move(scene), file, path);
  } catch (const std::invalid_argument& e) {  // PoseReward / BodyLocator refusals
    throw std::runtime_error("checkpoint '" + path + "': " + e.what());
  }
  model->module().to(device);
  model->module().eval();
  return model;
}

}  // namespace parallax::agents
