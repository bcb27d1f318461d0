// A pose-space dynamics model (pose_dynamics.hpp).
#include <torch/torch.h>

#include "parallax/agents/pose_dynamics.hpp"

#include <cmath>
#include <nlohmann/json.hpp>
#include <numbers>
#include <stdexcept>

#include "parallax/worldmodel/model_file.hpp"

namespace parallax::agents {
namespace {

constexpr float kQuarter = std::numbers::pi_v<float> / 4;

float fold(float a) {  // into [-pi/4, pi/4)
  float r = std::fmod(a + kQuarter, 2 * kQuarter);
  if (r < 0) r += 2 * kQuarter;
  return r - kQuarter;
}

}  // namespace

struct PoseDynamics::Impl {
  torch::nn::Sequential net{nullptr};
};

PoseDynamics::PoseDynamics() : impl_(std::make_unique<Impl>()) {}
PoseDynamics::~PoseDynamics() = default;

std::shared_ptr<const PoseDynamics> PoseDynamics::load(const std::string& path) {
  const std::string where = "checkpoint '" + path + "'";
  const auto file = worldmodel::read_model_file(path);
  if (!file) throw std::runtime_error(where + ": an RSSM archive, not a pose-dynamics model");
  if (file->family != "pose-dynamics")
    throw std::runtime_error(where + ": field 'family' is '" + file->family +
                             "', expected 'pose-dynamics'");
  nlohmann::json c;
  try {
    c = nlohmann::json::parse(file->config);
  } catch (const nlohmann::json::exception&) {
    throw std::runtime_error(where + ": field 'config' is not JSON");
  }
  std::shared_ptr<PoseDynamics> m(new PoseDynamics());
  auto str = [&](const char* key) {
    if (!c.contains(key) || !c[key].is_string() || c[key].get<std::string>().empty())
      throw std::runtime_error(where + ": config field '" + key + "' is missing or not a name");
    return c[key].get<std::string>();
  };
  auto num = [&](const char* key) {
    if (!c.contains(key) || !c[key].is_number())
      throw std::runtime_error(where + ": config field '" + key + "' is missing or not a number");
    const double v = c[key].get<double>();
    if (!std::isfinite(v) || v <= 0)
      throw std::runtime_error(where + ": config field '" + key + "' is " + std::to_string(v) +
                               ", expected a positive number");
    return v;
  };
  m->scene_ = str("scene"), m->driver_ = str("driver"), m->pushed_ = str("pushed");
  m->step_m_ = num("step_m");
  m->position_scale_ = num("position_scale_m");
  m->yaw_scale_ = num("yaw_scale_rad");
  const double hidden = num("hidden");
  if (hidden != std::floor(hidden) || hidden < 8 || hidden > 4096)
    throw std::runtime_error(where + ": config field 'hidden' is " + std::to_string(hidden) +
                             ", expected an integer in [8, 4096]");
  m->hidden_ = static_cast<int>(hidden);
  const int h = m->hidden_;
  m->impl_->net = torch::nn::Sequential(
      torch::nn::Linear(7, h), torch::nn::SiLU(), torch::nn::Linear(h, h), torch::nn::SiLU(),
      torch::nn::Linear(h, h), torch::nn::SiLU(), torch::nn::Linear(h, 3));
  worldmodel::load_weights(*m->impl_->net, file->weights, where);
  m->impl_->net->eval();
  m->sha256_ = file->sha256;
  m->path_ = path;
  return m;
}

std::int64_t PoseDynamics::parameters() const {
  std::int64_t n = 0;
  for (const auto& p : impl_->net->parameters()) n += p.numel();
  return n;
}

void PoseDynamics::check_scene(const sim::SceneModel& scene) const {
  const std::string where = "pose-dynamics model '" + path_ + "'";
  if (scene.name != scene_)
    throw std::invalid_argument(where + " was trained on scene '" + scene_ + "', not '" +
                                scene.name + "'");
  for (const auto& name : {driver_, pushed_})
    if (scene.body_index(name) < 0)
      throw std::invalid_argument(where + ": scene '" + scene.name + "' has no body '" + name +
                                  "'");
  for (const auto& act : scene.actuators)
    if (act.type == sim::ActuatorType::kPlanarVelocity && act.body == driver_) {
      const double s = act.max_speed / scene.control_hz;
      if (std::abs(s - step_m_) > 1e-6 * std::max(1.0, s))
        throw std::invalid_argument(where + ": driver '" + driver_ + "' steps " +
                                    std::to_string(s) + " m per tick in scene '" + scene.name +
                                    "', the model was trained for " + std::to_string(step_m_));
      return;
    }
  throw std::invalid_argument(where + ": scene '" + scene.name + "' drives '" + driver_ +
                              "' with no planar_velocity actuator");
}

void PoseDynamics::step(int b, const float* p, const float* pn, const float* c, const float* cp,
                        const float* th, const float* thp, float* c_next, float* th_next) const {
  if (b <= 0) return;
  torch::NoGradGuard no_grad;
  auto x = torch::empty({b, 7}, torch::kFloat32);
  float* xp = x.data_ptr<float>();
  const float s = static_cast<float>(step_m_), ps = static_cast<float>(position_scale_),
              ys = static_cast<float>(yaw_scale_);
  std::vector<float> co(b), si(b);
  for (int i = 0; i < b; ++i) {
    const float phi = fold(th[i]);
    co[i] = std::cos(phi), si[i] = std::sin(phi);
    auto body = [&](float vx, float vy, float scale, float* out) {  // R(-phi) v / scale
      out[0] = (co[i] * vx + si[i] * vy) / scale;
      out[1] = (-si[i] * vx + co[i] * vy) / scale;
    };
    float* r = xp + 7 * i;
    body(p[2 * i] - c[2 * i], p[2 * i + 1] - c[2 * i + 1], ps, r);
    body(pn[2 * i] - p[2 * i], pn[2 * i + 1] - p[2 * i + 1], s, r + 2);
    body(c[2 * i] - cp[2 * i], c[2 * i + 1] - cp[2 * i + 1], s, r + 4);
    r[6] = fold(th[i] - thp[i]) / ys;
  }
  const auto y = impl_->net->forward(x).contiguous();
  const float* yp = y.data_ptr<float>();
  for (int i = 0; i < b; ++i) {
    const float dx = yp[3 * i], dy = yp[3 * i + 1];
    c_next[2 * i] = c[2 * i] + (co[i] * dx - si[i] * dy) * s;
    c_next[2 * i + 1] = c[2 * i + 1] + (si[i] * dx + co[i] * dy) * s;
    th_next[i] = th[i] + yp[3 * i + 2] * ys;
  }
}

}  // namespace parallax::agents
