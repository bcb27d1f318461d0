// The search-scaling curves: decisions from expert episodes, n candidates scored by the dream
// and by Bullet, the three curves per K (scale.hpp).
#include "parallax/agents/scale.hpp"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <stdexcept>

#include "parallax/agents/planner.hpp"
#include "parallax/agents/policy.hpp"
#include "parallax/agents/pose_plan_model.hpp"
#include "parallax/sim/renderer.hpp"
#include "parallax/sim/world.hpp"

namespace parallax::agents {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// A decision state with what the model perceives of it.
struct DecisionState {
  std::uint64_t seed = 0;
  int tick = 0;
  sim::WorldState state;
  torch::Tensor frames, actions;  // [C', 3, H, W] u8, [C', A] f32 (oldest first)
};

// The scripted expert's episode from `seed`: per tick its state, frame and action; whether it
// succeeded, and after how many ticks.
struct ExpertEpisode {
  std::vector<sim::WorldState> states;            // [T + 1]
  std::vector<std::vector<std::uint8_t>> frames;  // [T + 1] of [H, W, 3]
  std::vector<std::vector<float>> actions;        // [T]
  bool success = false;
};

ExpertEpisode expert_episode(const std::shared_ptr<const sim::SceneModel>& scene,
                             sim::Renderer& renderer, std::uint64_t seed) {
  const std::size_t nb = scene->bodies.size(), nm = scene->markers.size();
  const int a = scene->action_size();
  const std::size_t fsz = static_cast<std::size_t>(renderer.height()) * renderer.width() * 3;
  auto policy = make_policy("expert", scene, 1, seed);
  policy->reset(0, seed);
  sim::World world(scene, seed);
  std::vector<float> pose(nb * 7), mk(nm * 3), color(nb * 3), size(nb);
  ExpertEpisode ep;
  auto observe = [&] {
    world.poses(pose), world.marker_positions(mk), world.body_colors(color),
        world.body_size_scales(size);
    ep.states.push_back(world.save_state());
    ep.frames.emplace_back(fsz);
    renderer.render({.n = 1,
                     .poses = pose.data(),
                     .markers = mk.data(),
                     .colors = color.data(),
                     .scales = size.data()},
                    ep.frames.back().data(), nullptr);
  };
  observe();
  for (int t = 0; t < scene->episode_steps; ++t) {
    std::vector<float> act(a);
    act_on_world(*policy, world, act);
    const auto r = world.step(act);
    ep.actions.push_back(std::move(act));
    observe();
    if (r.terminated || r.truncated) {
      ep.success = is_success(*scene, world);
      break;
    }
  }
  return ep;
}

std::vector<DecisionState> decision_states(const std::shared_ptr<const sim::SceneModel>& scene,
                                           const ScaleOptions& o, int context,
                                           const AgentProgress& progress) {
  sim::Renderer renderer(scene);
  const int h = renderer.height(), w = renderer.width(), a = scene->action_size();
  const std::size_t fsz = static_cast<std::size_t>(h) * w * 3;
  std::vector<DecisionState> out;
  const std::uint64_t tries = 20ull * static_cast<std::uint64_t>(o.decisions) + 20;
  for (std::uint64_t s = o.seed; out.size() < static_cast<std::size_t>(o.decisions); ++s) {
    if (s - o.seed >= tries)
      throw std::runtime_error("scale: the expert of scene '" + scene->name + "' succeeded in " +
                               std::to_string(out.size()) + " of " + std::to_string(tries) +
                               " episodes from seed " + std::to_string(o.seed) + "; need " +
                               std::to_string(o.decisions));
    const auto ep = expert_episode(scene, renderer, s);
    const int ticks = static_cast<int>(ep.actions.size());
    if (!ep.success || ticks < o.lead) continue;
    DecisionState d;
    d.seed = s;
    d.tick = ticks - o.lead;
    d.state = ep.states[d.tick];
    const int first = std::max(0, d.tick - context + 1), c = d.tick - first + 1;
    auto f = torch::empty({c, h, w, 3}, torch::kUInt8);
    d.actions = torch::zeros({c, a}, torch::kFloat32);
    for (int i = 0; i < c; ++i) {
      const int at = first + i;
      std::copy_n(ep.frames[at].data(), fsz, f.data_ptr<std::uint8_t>() + i * fsz);
      if (at > 0) std::copy_n(ep.actions[at - 1].data(), a, d.actions.data_ptr<float>() + i * a);
    }
    d.frames = f.permute({0, 3, 1, 2}).contiguous();
    out.push_back(std::move(d));
    if (progress) progress("decision states", static_cast<int>(out.size()), o.decisions);
  }
  return out;
}

}  // namespace

void validate(const ScaleOptions& o) {
  auto bad = [](const std::string& what) { throw std::invalid_argument("scale: " + what); };
  if (o.ks.empty()) bad("K list is empty");
  for (std::size_t i = 0; i < o.ks.size(); ++i) {
    if (o.ks[i] < 1 || o.ks[i] > 65536)
      bad("K must be in [1, 65536], got " + std::to_string(o.ks[i]));
    if (i > 0 && o.ks[i] <= o.ks[i - 1]) bad("K values must be ascending");
  }
  if (o.decisions < 1 || o.decisions > 100000)
    bad("decisions must be in [1, 100000], got " + std::to_string(o.decisions));
  if (o.horizon < 1 || o.horizon > 1000)
    bad("horizon must be in [1, 1000], got " + std::to_string(o.horizon));
  if (o.lead < 1 || o.lead > o.horizon)
    bad("lead must be in [1, horizon], got " + std::to_string(o.lead));
  if (o.batch < 1) bad("batch must be >= 1, got " + std::to_string(o.batch));
  if (o.resamples < 1) bad("resamples must be >= 1, got " + std::to_string(o.resamples));
  PlannerOptions p;
  p.candidates = o.ks.back(), p.elites = 1, p.horizon = o.horizon;
  p.init_std = o.init_std, p.min_std = 0, p.noise_correlation = o.noise_correlation;
  p.gamma = o.gamma;
  validate(p);
}

std::vector<int> parse_k_list(const std::string& text) {
  auto bad = [&] {
    throw std::invalid_argument("K list '" + text +
                                "': expected ascending integers such as 1,2,4,...,1024");
  };
  std::vector<std::string> items;
  std::size_t at = 0;
  while (true) {
    const std::size_t comma = text.find(',', at);
    items.push_back(text.substr(at, comma == std::string::npos ? std::string::npos : comma - at));
    if (comma == std::string::npos) break;
    at = comma + 1;
  }
  std::vector<int> ks;
  for (std::size_t i = 0; i < items.size(); ++i) {
    const std::string& it = items[i];
    if (it == "...") {
      if (ks.size() < 2 || i + 1 >= items.size() || items[i + 1] == "...") bad();
      const double ratio = static_cast<double>(ks.back()) / ks[ks.size() - 2];
      if (!(ratio > 1)) bad();
      int end = 0;
      try {
        end = std::stoi(items[i + 1]);
      } catch (const std::exception&) {
        bad();
      }
      for (double v = ks.back() * ratio; v < end; v *= ratio) ks.push_back(static_cast<int>(v));
      continue;
    }
    if (it.empty() || it.find_first_not_of("0123456789") != std::string::npos || it.size() > 6)
      bad();
    ks.push_back(std::stoi(it));
  }
  for (std::size_t i = 1; i < ks.size(); ++i)
    if (ks[i] <= ks[i - 1]) bad();
  if (ks.empty()) bad();
  return ks;
}

ScaleReport run_scale(std::shared_ptr<const sim::SceneModel> scene,
                      std::shared_ptr<worldmodel::WorldModel> model, const ScaleOptions& o,
                      const AgentProgress& progress) {
  validate(o);
  const bool posed = static_cast<bool>(o.pose_model);
  if (posed && model)
    throw std::invalid_argument("scale: a pose-space model replaces the world model: give one");
  if (!posed && !model) throw std::invalid_argument("scale: needs a model");
  if (posed && o.precision != worldmodel::Precision::kF32)
    throw std::invalid_argument("scale: a pose-space model runs in f32 only");
  if (!posed) {
    const auto& info = model->info();
    if (info.height != scene->camera.height || info.width != scene->camera.width ||
        info.action_size != scene->action_size())
      throw std::runtime_error("scale: the model does not fit scene '" + scene->name + "'");
  }
  const int n = o.ks.back(), l = o.horizon, a = scene->action_size();
  const std::size_t la = static_cast<std::size_t>(l) * a;

  const int context = posed ? 2 : std::max(1, model->info().context_frames);
  const auto states = decision_states(scene, o, context, progress);
  std::unique_ptr<DreamPlanModel> dream;
  std::unique_ptr<PosePlanModel> pose;
  if (posed) {
    pose = std::make_unique<PosePlanModel>(scene, o.pose_model, std::min(o.batch, n));
  } else {
    dream = std::make_unique<DreamPlanModel>(model, std::min(o.batch, n), torch::Device(o.device));
    if (o.pose_reward) dream->set_pose_reward(*scene);
    dream->set_precision(o.precision);
  }
  PlanModel& imagine = posed ? static_cast<PlanModel&>(*pose) : *dream;
  std::vector<float> poses(scene->bodies.size() * 7);
  std::vector<float> markers(scene->markers.size() * 3);
  BulletPlanModel bullet(scene, n, o.threads);
  PlannerOptions po;
  po.kind = PlannerKind::kShooting;
  po.candidates = n, po.elites = 1, po.horizon = l;
  po.init_std = o.init_std, po.min_std = 0, po.noise_correlation = o.noise_correlation;
  const std::vector<float> mean(la, 0.0f), stddev(la, o.init_std);

  ScaleReport rep;
  rep.candidates = n;
  rep.curve.resize(o.ks.size());
  for (std::size_t j = 0; j < o.ks.size(); ++j) rep.curve[j].k = o.ks[j];
  std::vector<float> plans(la * n);
  std::vector<double> imagined(n), truth(n);
  std::vector<std::uint8_t> solved(n);
  std::vector<double> solved_d(n);
  for (std::size_t d = 0; d < states.size(); ++d) {
    const auto& st = states[d];
    std::mt19937_64 rng(o.seed * 0x9E3779B97F4A7C15ull + st.seed * 0xBF58476D1CE4E5B9ull + 7);
    sample_plans(po, a, rng, mean, stddev, plans);
    // The dream's imagined returns, `batch` candidates at a time.
    auto t0 = Clock::now();
    if (posed) {
      // The cube read in the decision's frames, the pusher where it stands (its agent knows it).
      sim::World world(scene, st.seed);
      world.marker_positions(markers);
      world.restore_state(st.state);
      world.poses(poses);
      const int driver = scene->body_index(o.pose_model->driver());
      const std::vector<float> driver_xy{poses[driver * 7], poses[driver * 7 + 1]};
      const auto frames = st.frames.permute({0, 2, 3, 1}).contiguous();
      const int c = static_cast<int>(frames.size(0));
      const auto last = st.actions[c - 1].contiguous();
      pose->set_markers(markers);
      pose->set_root(frames.data_ptr<std::uint8_t>(), c, driver_xy,
                     std::span<const float>(last.data_ptr<float>(), a));
    } else {
      dream->set_root(st.frames, st.actions);
      if (o.pose_reward) {
        // The goal, as a goal-conditioned agent is told it (fixed within an episode).
        sim::World(scene, st.seed).marker_positions(markers);
        dream->set_markers(markers);
      }
    }
    for (int begin = 0; begin < n; begin += o.batch) {
      const int kc = std::min(o.batch, n - begin);
      imagine.score(std::span<const float>(plans).subspan(begin * la, kc * la), kc, l, o.gamma,
                    std::span<double>(imagined).subspan(begin, kc));
    }
    rep.dream_seconds += seconds_since(t0);
    rep.dream_steps += static_cast<long long>(n) * l;
    // Bullet: true returns and outcomes.
    t0 = Clock::now();
    bullet.set_root(st.state);
    bullet.score_outcomes(plans, n, l, o.gamma, truth, solved);
    rep.bullet_seconds += seconds_since(t0);
    rep.bullet_steps += static_cast<long long>(n) * l;
    for (int i = 0; i < n; ++i) {
      solved_d[i] = solved[i];
      if (!std::isfinite(imagined[i])) imagined[i] = -std::numeric_limits<double>::max();
    }

    ScaleDecision dec;
    dec.seed = st.seed, dec.tick = st.tick;
    dec.solved = static_cast<int>(std::count(solved.begin(), solved.end(), 1));
    for (int k : o.ks) {
      dec.a.push_back(best_of_k(imagined, solved_d, k));
      dec.b.push_back(pass_at_k(solved, k));
      dec.c.push_back(best_of_k(truth, solved_d, k));
    }
    rep.decisions.push_back(std::move(dec));
    // The dream pick's imagined and true returns, per K (accumulated as means).
    for (std::size_t j = 0; j < o.ks.size(); ++j) {
      rep.curve[j].dream_pick_imagined += best_of_k(imagined, imagined, o.ks[j]) / states.size();
      rep.curve[j].dream_pick_true += best_of_k(imagined, truth, o.ks[j]) / states.size();
    }
    if (progress) progress("decisions", static_cast<int>(d + 1), static_cast<int>(states.size()));
  }

  // Means over decisions and bootstrap intervals (the same resamples for every K and curve:
  // one seed).
  double best_a = -1;
  for (std::size_t j = 0; j < o.ks.size(); ++j) {
    auto& p = rep.curve[j];
    std::vector<double> va, vb, vc;
    for (const auto& dec : rep.decisions)
      va.push_back(dec.a[j]), vb.push_back(dec.b[j]), vc.push_back(dec.c[j]);
    auto mean_of = [](const std::vector<double>& v) {
      double s = 0;
      for (double x : v) s += x;
      return s / static_cast<double>(v.size());
    };
    p.a = mean_of(va), p.b = mean_of(vb), p.c = mean_of(vc);
    p.a_ci = bootstrap_mean_ci(va, 0.95, o.resamples, o.seed + 1);
    p.b_ci = bootstrap_mean_ci(vb, 0.95, o.resamples, o.seed + 1);
    p.c_ci = bootstrap_mean_ci(vc, 0.95, o.resamples, o.seed + 1);
    if (p.a > best_a + 1e-12) best_a = p.a, rep.k_peak_a = p.k;
  }
  return rep;
}

}  // namespace parallax::agents
