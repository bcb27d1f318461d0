#include "parallax/agents/futures.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <stdexcept>

#include <torch/torch.h>

#include "parallax/sim/render_inputs.hpp"
#include "parallax/sim/renderer.hpp"

namespace parallax::agents {
namespace {

void require(bool ok, const std::string& what) {
  if (!ok) throw std::invalid_argument("futures: " + what);
}

// AR(1) noise plans [K, L, A] in [-1, 1], as the planner samples them around a zero mean.
void random_plans(const FuturesOptions& o, int a, std::vector<float>& plans) {
  std::mt19937_64 rng(o.seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  const float rho = o.noise_correlation, fresh = std::sqrt(1.0f - rho * rho);
  std::vector<float> noise(a);
  plans.resize(static_cast<std::size_t>(o.futures) * o.horizon * a);
  for (int i = 0; i < o.futures; ++i)
    for (int s = 0; s < o.horizon; ++s)
      for (int j = 0; j < a; ++j) {
        const float e = normal(rng);
        noise[j] = s == 0 ? e : rho * noise[j] + fresh * e;
        plans[(static_cast<std::size_t>(i) * o.horizon + s) * a + j] =
            std::clamp(o.noise_std * noise[j], -1.0f, 1.0f);
      }
}

}  // namespace

FutureSource future_source_from_string(const std::string& name) {
  if (name == "random") return FutureSource::kRandom;
  if (name == "planner") return FutureSource::kPlanner;
  throw std::invalid_argument("futures: unknown source '" + name + "' (random | planner)");
}

void validate(const FuturesOptions& o) {
  require(o.futures >= 1 && o.futures <= 16,
          "futures must be in [1, 16], got " + std::to_string(o.futures));
  require(o.horizon >= 1 && o.horizon <= 64,
          "horizon must be in [1, 64], got " + std::to_string(o.horizon));
  require(o.gamma > 0 && o.gamma <= 1, "gamma must be in (0, 1], got " + std::to_string(o.gamma));
  require(o.noise_std >= 0 && o.noise_std <= 4,
          "noise_std must be in [0, 4], got " + std::to_string(o.noise_std));
  require(o.noise_correlation >= 0 && o.noise_correlation < 1,
          "noise_correlation must be in [0, 1), got " + std::to_string(o.noise_correlation));
}

std::span<const std::uint8_t> ImaginedFutures::frame(int i, int s) const {
  const std::size_t f = static_cast<std::size_t>(h) * w * 3;
  return std::span(frames).subspan((static_cast<std::size_t>(i) * l + s) * f, f);
}
std::span<const std::uint8_t> ImaginedFutures::bullet_frame(int i, int s) const {
  const std::size_t f = static_cast<std::size_t>(h) * w * 3;
  return std::span(bullet_frames).subspan((static_cast<std::size_t>(i) * l + s) * f, f);
}

struct FutureImaginer::Impl {
  std::shared_ptr<worldmodel::WorldModel> model;
  int capacity, a, h, w;
  torch::Device device;
  worldmodel::SlotState root{};  // each [1, ...] on the device
  worldmodel::StepContext ctx{.sampling = worldmodel::Sampling::kMode, .generator = nullptr};
  worldmodel::Precision precision = worldmodel::Precision::kF32;

  // The root forked into k rows.
  worldmodel::SlotState fork(int k) const {
    if (root.empty()) throw std::logic_error("futures: set_root() must come before imagining");
    worldmodel::SlotState s;
    for (const auto& t : root) {
      std::vector<int64_t> shape = t.sizes().vec();
      shape[0] = k;
      s.push_back(t.expand(shape).clone());
    }
    return s;
  }

  // Steps k forked rows along plans [K, L, A]; per step calls on_step(state), both under the
  // precision's autocast; floating state is kept f32 between steps (as DreamBatch keeps it).
  template <class F>
  void rollout(std::span<const float> plans, int k, int l, F&& on_step) {
    torch::NoGradGuard no_grad;
    worldmodel::AutocastGuard autocast(device, precision);
    worldmodel::SlotState s = fork(k);
    torch::Tensor act = torch::empty({k, a}, torch::kFloat32);  // [K, A] staging on the CPU
    for (int step = 0; step < l; ++step) {
      float* p = act.data_ptr<float>();
      for (int i = 0; i < k; ++i)
        std::copy_n(plans.data() + (static_cast<std::size_t>(i) * l + step) * a, a, p + i * a);
      s = model->step(s, act.to(device), ctx);
      for (auto& t : s)
        if (t.is_floating_point() && t.scalar_type() != torch::kFloat) t = t.to(torch::kFloat);
      on_step(step, s);
    }
  }
};

FutureImaginer::FutureImaginer(std::shared_ptr<worldmodel::WorldModel> model, int max_futures,
                               torch::Device device)
    : impl_(std::make_unique<Impl>(Impl{.model = std::move(model),
                                        .capacity = max_futures,
                                        .a = 0,
                                        .h = 0,
                                        .w = 0,
                                        .device = device})) {
  require(impl_->model != nullptr, "no model");
  require(max_futures >= 1 && max_futures <= 16,
          "max_futures must be in [1, 16], got " + std::to_string(max_futures));
  const auto& info = impl_->model->info();
  impl_->a = info.action_size;
  impl_->h = info.height;
  impl_->w = info.width;
}
FutureImaginer::~FutureImaginer() = default;

void FutureImaginer::set_precision(worldmodel::Precision precision) {
  impl_->precision = precision;
  if (precision == worldmodel::Precision::kBF16)
    worldmodel::use_channels_last(impl_->model->module());
}

int FutureImaginer::action_size() const {
  return impl_->a;
}
int FutureImaginer::max_candidates() const {
  return impl_->capacity;
}

void FutureImaginer::set_root(const worldmodel::SlotState& state, int row) {
  torch::NoGradGuard no_grad;
  require(!state.empty(), "the source state is empty");
  require(row >= 0 && row < state.front().size(0),
          "row " + std::to_string(row) + " outside the source's " +
              std::to_string(state.front().size(0)) + " slots");
  impl_->root.clear();
  for (const auto& t : state) impl_->root.push_back(t.narrow(0, row, 1).to(impl_->device).clone());
}

void FutureImaginer::score(std::span<const float> plans, int k, int l, float gamma,
                           std::span<double> returns) {
  require(k >= 1 && k <= impl_->capacity,
          "k = " + std::to_string(k) + " plans, capacity " + std::to_string(impl_->capacity));
  std::vector<double> alive(k, 1.0), discount(k, 1.0);
  std::fill_n(returns.begin(), k, 0.0);
  impl_->rollout(plans, k, l, [&](int, const worldmodel::SlotState& s) {
    const auto r = impl_->model->reward(s).to(torch::kCPU, torch::kFloat).contiguous();
    const auto c = impl_->model->cont(s).to(torch::kCPU, torch::kFloat).contiguous();
    for (int i = 0; i < k; ++i) {
      returns[i] += discount[i] * alive[i] * r[i].item<float>();
      alive[i] *= c[i].item<float>();
      discount[i] *= gamma;
    }
  });
}

ImaginedFutures FutureImaginer::imagine(const FuturesOptions& o) {
  validate(o);
  Impl& m = *impl_;
  require(o.futures <= m.capacity, "futures = " + std::to_string(o.futures) +
                                       " exceeds this imaginer's " + std::to_string(m.capacity));
  ImaginedFutures f;
  f.k = o.futures;
  f.l = o.horizon;
  f.h = m.h;
  f.w = m.w;
  f.a = m.a;
  // 1. The plans: random, or one decision of a planner (its candidates, scored from the root).
  if (o.source == FutureSource::kRandom) {
    random_plans(o, m.a, f.plans);
  } else {
    PlannerOptions po{.kind = o.planner,
                      .candidates = o.futures,
                      .horizon = o.horizon,
                      .iterations = 1,
                      .elites = std::max(1, o.futures / 4),
                      .gamma = o.gamma,
                      .seed = o.seed};
    Planner planner(po, m.a);
    planner.reset(o.seed);
    planner.plan(*this);
    f.plans.assign(planner.last_candidates().begin(), planner.last_candidates().end());
  }
  // 2. Imagine them: frames, rewards, returns (one batched step of K rows per plan step).
  const std::size_t fsz = static_cast<std::size_t>(m.h) * m.w * 3;
  f.frames.assign(fsz * f.k * f.l, 0);
  f.rewards.assign(static_cast<std::size_t>(f.k) * f.l, 0.0f);
  f.returns.assign(f.k, 0.0);
  std::vector<double> alive(f.k, 1.0), discount(f.k, 1.0);
  m.rollout(f.plans, f.k, f.l, [&](int step, const worldmodel::SlotState& s) {
    const auto img = (m.model->decode(s).to(torch::kFloat).clamp(0, 1) * 255.0f)
                         .round()
                         .to(torch::kUInt8)
                         .permute({0, 2, 3, 1})
                         .to(torch::kCPU)
                         .contiguous();  // [K, H, W, 3] u8
    const auto r = m.model->reward(s).to(torch::kCPU, torch::kFloat).contiguous();
    const auto c = m.model->cont(s).to(torch::kCPU, torch::kFloat).contiguous();
    for (int i = 0; i < f.k; ++i) {
      std::copy_n(img.data_ptr<std::uint8_t>() + i * fsz, fsz,
                  f.frames.data() + (static_cast<std::size_t>(i) * f.l + step) * fsz);
      const float ri = r[i].item<float>();
      f.rewards[static_cast<std::size_t>(i) * f.l + step] = ri;
      f.returns[i] += discount[i] * alive[i] * ri;
      alive[i] *= c[i].item<float>();
      discount[i] *= o.gamma;
    }
  });
  // 3. The pick: the largest imagined return (non-finite ranks last).
  double best = -std::numeric_limits<double>::infinity();
  for (int i = 0; i < f.k; ++i)
    if (std::isfinite(f.returns[i]) && f.returns[i] > best) {
      best = f.returns[i];
      f.chosen = i;
    }
  return f;
}

void replay_in_bullet(const sim::World& source, float gamma, ImaginedFutures& f) {
  const auto scene = source.scene_ptr();
  require(scene->action_size() == f.a, "the scene has " + std::to_string(scene->action_size()) +
                                           " actions, the futures " + std::to_string(f.a));
  const sim::WorldState root = source.save_state();
  // The source's appearance (this episode's colours and sizes) for every replayed frame.
  sim::WorldRenderInputs source_inputs(*scene), inputs(*scene);
  const sim::RenderInputs look = source_inputs.gather(source);
  sim::Renderer renderer(scene, sim::RenderOptions{.width = f.w, .height = f.h});
  sim::World world(scene, 0);
  const std::size_t fsz = static_cast<std::size_t>(f.h) * f.w * 3;
  f.bullet_frames.assign(fsz * f.k * f.l, 0);
  f.bullet_returns.assign(f.k, 0.0);
  for (int i = 0; i < f.k; ++i) {
    world.restore_state(root);
    double ret = 0, discount = 1;
    bool alive = true;
    for (int s = 0; s < f.l; ++s) {
      const auto res = world.step(
          std::span(f.plans).subspan((static_cast<std::size_t>(i) * f.l + s) * f.a, f.a));
      if (alive) ret += discount * res.reward;
      discount *= gamma;
      if (res.terminated || res.truncated) alive = false;
      sim::RenderInputs in = inputs.gather(world);
      in.colors = look.colors;
      in.scales = look.scales;
      renderer.render(in, f.bullet_frames.data() + (static_cast<std::size_t>(i) * f.l + s) * fsz);
    }
    f.bullet_returns[i] = ret;
  }
}

}  // namespace parallax::agents
