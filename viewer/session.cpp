#include "session.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <stdexcept>

#include "parallax/agents/pose_dynamics.hpp"
#include "parallax/sim/render_inputs.hpp"
#include "parallax/sim/renderer.hpp"
#include "parallax/sim/world_batch.hpp"
#include "parallax/worldmodel/dream_batch.hpp"
#include "parallax/worldmodel/model_file.hpp"

namespace parallax::viewer {
namespace {

void push_history(std::deque<float>& d, float v) {
  d.push_back(v);
  if (d.size() > 240) d.pop_front();
}

}  // namespace

Session::Session(SessionOptions options)
    : o_(std::move(options)), precision_(worldmodel::resolve_precision(o_.precision, torch::kCPU)) {
  build(o_.scene, o_.model);
}

Session::~Session() {
  stop_ = true;
  cv_.notify_all();
  if (worker_.joinable()) worker_.join();
}

// Loads the scene and model (throws on either) and only then replaces the current ones.
void Session::build(const std::string& scene_name, const std::string& model_path) {
  auto scene = std::make_shared<const sim::SceneModel>(sim::resolve_scene(scene_name));
  auto model = agents::load_model_for_scene(*scene, model_path, "cpu", o_.seed);
  // The planner is not a make_policy kind: the arena starts with random actions, the planner
  // replaces them below.
  const std::string arena_policy = o_.policy == "planner" ? "random" : o_.policy;
  auto arena = std::make_unique<agents::Arena>(scene, model.model,
                                               agents::ArenaOptions{.num_envs = o_.envs,
                                                                    .seed = o_.seed,
                                                                    .threads = o_.threads,
                                                                    .policy = arena_policy,
                                                                    .precision = precision_});
  scene_ = std::move(scene);
  model_ = std::move(model);
  arena_ = std::move(arena);
  o_.scene = scene_name;
  o_.model = model_path;
  imaginer_ = std::make_unique<agents::FutureImaginer>(model_.model, 16, torch::kCPU);
  imaginer_->set_precision(precision_);
  id_renderer_ = std::make_unique<sim::Renderer>(scene_);
  pusher_body_ = -1;
  for (const auto& act : scene_->actuators)  // the first actuated body (push: the pusher)
    if (!act.body.empty()) {
      pusher_body_ = scene_->body_index(act.body);
      break;
    }
  planner_ = nullptr;
  if (o_.policy == "planner") {
    try {
      auto planner = make_planner();
      planner_ = planner.get();
      arena_->set_policy(std::move(planner), "planner");
    } catch (const std::exception& e) {
      o_.policy = "random";
      set_message(std::string("planner refused, random actions: ") + e.what());
    }
  }
  teleop_action_.assign(arena_->action_size(), 0.0f);
  {
    std::lock_guard lock(snap_mutex_);
    futures_.reset();
  }
  Snapshot fresh;
  fresh.version = work_.version;
  fresh.ticks_total = work_.ticks_total;
  work_ = std::move(fresh);
  work_.class_names = {"background"};
  for (const auto& b : scene_->bodies) work_.class_names.push_back(b.name);
  for (const auto& m : scene_->markers) work_.class_names.push_back(m.name);
  clear_history();  // the new arena has just reset itself: resetting it again would draw the
                    // dream's first states twice and part from `parallax demo`'s episodes
}

void Session::reset() {
  arena_->reset();
  clear_history();
}

void Session::clear_history() {
  horizon_.assign(arena_->num_envs(), 0);
  work_.horizon.clear();
  work_.psnr.clear();
  work_.reward_true.clear();
  work_.reward_pred.clear();
  work_.returns_true.assign(arena_->num_envs(), 0.0);
  work_.returns_pred.assign(arena_->num_envs(), 0.0);
  work_.metrics.assign(arena_->num_envs(), agents::StepMetrics{});
  publish();
}

void Session::set_mode(const std::string& mode, int resync_every) {
  try {
    arena_->set_mode(agents::arena_mode_from_string(mode), resync_every);
    set_message("mode " + mode +
                (mode == "mirror" ? "" : " every " + std::to_string(resync_every)));
  } catch (const std::exception& e) {
    set_message(std::string("refused: ") + e.what());
  }
  publish();
}

void Session::resync_now() {
  arena_->resync_now();
  std::fill(horizon_.begin(), horizon_.end(), 0);
  publish();
}

std::unique_ptr<agents::PlannerPolicy> Session::make_planner() const {
  const std::filesystem::path path = o_.planner_model.empty()
                                         ? agents::default_planner_model(*scene_)
                                         : std::filesystem::path(o_.planner_model);
  if (path.empty() || !std::filesystem::exists(path))
    throw std::runtime_error(
        "no planner model " +
        (path.empty() ? "shipped for scene '" + scene_->name + "'" : path.string()) +
        " (--planner-model)");
  // The fast planner of the README, its envs' decisions spread over the ticks: the pose-space
  // model's, or the pose-head latent's.
  if (worldmodel::checkpoint_family(path.string()) == "pose-dynamics") {
    auto options = agents::pose_planner_options();
    options.stagger = true;
    return std::make_unique<agents::PlannerPolicy>(
        scene_, agents::PoseDynamics::load(path.string()), options, arena_->num_envs());
  }
  auto src = agents::load_model_for_scene(*scene_, path, "cpu", o_.seed);
  auto options = agents::fast_planner_options();
  options.stagger = true;
  return std::make_unique<agents::PlannerPolicy>(scene_, src.model, options, arena_->num_envs());
}

void Session::set_policy(const std::string& name) {
  try {
    if (name == "planner") {
      auto planner = make_planner();
      auto* raw = planner.get();
      arena_->set_policy(std::move(planner), "planner");
      planner_ = raw;
    } else {
      arena_->set_policy(name);
      planner_ = nullptr;
    }
    o_.policy = name;
    set_message("policy " + name);
  } catch (const std::exception& e) {
    set_message(std::string("refused: ") + e.what());
  }
  publish();
}

bool Session::switch_to(const std::string& scene, const std::string& model) {
  try {
    build(scene, model);
    set_message("switched to scene '" + scene_->name + "', model " + model_.description);
    publish();
    return true;
  } catch (const std::exception& e) {
    set_message(std::string("refused: ") + e.what());
    publish();
    return false;
  }
}

void Session::set_message(std::string m) {
  std::printf("parallax-view: %s\n", m.c_str());
  std::fflush(stdout);
  work_.message = std::move(m);
}

void Session::imagine(int k, const std::string& source, int horizon) {
  try {
    const int env = std::clamp(selected_.load(), 0, arena_->num_envs() - 1);
    imaginer_->set_root(arena_->dream().state(), env);
    agents::FuturesOptions fo{.futures = k,
                              .horizon = horizon,
                              .source = agents::future_source_from_string(source),
                              .seed = o_.seed + static_cast<std::uint64_t>(arena_->ticks())};
    auto f = std::make_shared<agents::ImaginedFutures>(imaginer_->imagine(fo));
    agents::replay_in_bullet(arena_->worlds().world(env), fo.gamma, *f);
    std::lock_guard lock(snap_mutex_);
    futures_ = std::move(f);
  } catch (const std::exception& e) {
    set_message(std::string("futures refused: ") + e.what());
  }
}

std::shared_ptr<const agents::ImaginedFutures> Session::futures() {
  std::lock_guard lock(snap_mutex_);
  return futures_;
}

void Session::set_teleop(bool on, std::vector<float> action) {
  post([on, a = std::move(action)](Session& s) {
    s.teleop_ = on;
    if (a.size() == s.teleop_action_.size()) s.teleop_action_ = a;
  });
}

void Session::tick_once() {
  const auto t0 = std::chrono::steady_clock::now();
  const int n = arena_->num_envs(), a = arena_->action_size();
  std::span<const agents::StepMetrics> m;
  if (teleop_) {
    std::vector<float> act(static_cast<std::size_t>(n) * a, 0.0f);  // others hold still
    std::copy(teleop_action_.begin(), teleop_action_.end(), act.begin());
    m = arena_->tick(act);
  } else {
    m = arena_->tick();
  }
  // Horizons: ticks since each env's dream last observed a true frame.
  const int every = arena_->resync_every();
  const bool resynced =
      arena_->mode() != agents::ArenaMode::kMirror && every > 0 && arena_->ticks() % every == 0;
  for (int i = 0; i < n; ++i) {
    horizon_[i] = (m[i].reset || resynced) ? 0 : horizon_[i] + 1;
    if (horizon_[i] > 0) work_.horizon.add_psnr(horizon_[i], m[i].psnr);
    work_.returns_true[i] = m[i].return_true;
    work_.returns_pred[i] = m[i].return_pred;
  }
  work_.metrics.assign(m.begin(), m.end());
  ++work_.ticks_total;
  const int env = std::clamp(selected_.load(), 0, n - 1);
  const auto& e = m[env];
  push_history(work_.psnr, std::isfinite(e.psnr) ? static_cast<float>(e.psnr) : 60.0f);
  push_history(work_.reward_true, e.reward_true);
  push_history(work_.reward_pred, e.reward_pred);
  publish();
  const auto t1 = std::chrono::steady_clock::now();
  std::lock_guard lock(tick_times_mutex_);
  tick_times_.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
  if (tick_times_.size() > 100000) tick_times_.pop_front();
  tick_stamps_.push_back(t1);
  while (!tick_stamps_.empty() && t1 - tick_stamps_.front() > std::chrono::seconds(1))
    tick_stamps_.pop_front();
  work_.ticks_per_second = static_cast<double>(tick_stamps_.size());
}

// Copies the arena's outputs and the selected env's overlays into the published snapshot.
void Session::publish() {
  const int n = arena_->num_envs();
  const int env = std::clamp(selected_.load(), 0, n - 1);
  Snapshot& s = work_;
  ++s.version;
  s.n = n;
  s.h = arena_->height();
  s.w = arena_->width();
  s.a = arena_->action_size();
  s.tick = arena_->ticks();
  s.control_hz = static_cast<int>(std::lround(scene_->control_hz));
  s.scene = scene_->name;
  s.model = model_.description + ", " + worldmodel::to_string(precision_);
  s.mode = agents::to_string(arena_->mode());
  s.resync_every = arena_->resync_every();
  s.policy = teleop_ ? "teleoperation (env 0)" : arena_->policy_name();
  s.pusher = pusher_body_ >= 0 ? scene_->bodies[pusher_body_].name : "";
  s.planner_ms = -1;
  s.planner_decisions = 0;
  if (planner_ && !planner_->decision_ms().empty()) {
    const auto& all = planner_->decision_ms();
    s.planner_decisions = static_cast<int>(all.size());
    std::vector<double> last(all.end() - std::min<std::ptrdiff_t>(32, std::ssize(all)), all.end());
    std::nth_element(last.begin(), last.begin() + last.size() / 2, last.end());
    s.planner_ms = last[last.size() / 2];
  }
  s.true_rgb.assign(arena_->true_frames().begin(), arena_->true_frames().end());
  s.pred_rgb.assign(arena_->predicted_frames().begin(), arena_->predicted_frames().end());
  s.actions.assign(arena_->last_actions().begin(), arena_->last_actions().end());
  // Overlays of the selected env: ids from a render of its poses, the colour method on the
  // predicted frame (calibrated on the true frame, as fidelity does).
  s.env = env;
  const auto& world = arena_->worlds().world(env);
  const std::size_t nb = scene_->bodies.size();
  sim::WorldRenderInputs gather(*scene_);
  const sim::RenderInputs in = gather.gather(world);
  const std::size_t px = static_cast<std::size_t>(s.h) * s.w;
  std::vector<std::uint8_t> rgb(px * 3), ids(px);
  id_renderer_->render(in, rgb.data(), ids.data());
  const int classes = static_cast<int>(1 + nb + scene_->markers.size());
  s.true_centroids = agents::id_centroids(ids.data(), s.h, s.w, classes);
  agents::BodyFinder finder(*scene_, in.colors);
  finder.calibrate(rgb.data(), ids.data(), s.h, s.w);
  s.pred_centroids = finder.find(s.pred_rgb.data() + env * px * 3, s.h, s.w);
  // Position error of the selected env: mean centroid distance over the bodies seen in both.
  double err = 0;
  int seen = 0;
  for (std::size_t b = 1; b <= nb; ++b)
    if (s.true_centroids[b].pixels >= 4 && s.pred_centroids[b].pixels > 0) {
      err += std::hypot(s.true_centroids[b].x - s.pred_centroids[b].x,
                        s.true_centroids[b].y - s.pred_centroids[b].y);
      ++seen;
    }
  if (seen > 0 && !horizon_.empty() && horizon_[env] > 0)
    s.horizon.add_position_error(horizon_[env], err / seen);
  std::lock_guard lock(snap_mutex_);
  published_ = s;
}

bool Session::latest(Snapshot& out) {
  std::lock_guard lock(snap_mutex_);
  if (out.version == published_.version) return false;
  out = published_;
  return true;
}

void Session::post(std::function<void(Session&)> fn) {
  {
    std::lock_guard lock(cmd_mutex_);
    commands_.push_back(std::move(fn));
  }
  cv_.notify_all();
}

void Session::run_commands() {
  std::deque<std::function<void(Session&)>> cmds;
  {
    std::lock_guard lock(cmd_mutex_);
    cmds.swap(commands_);
  }
  for (auto& c : cmds) c(*this);
}

void Session::pump(int ticks) {
  run_commands();
  const int steps = step_requests_.exchange(0);
  const int n = playing_ ? ticks : std::min(steps, 1);
  for (int i = 0; i < n; ++i) tick_once();
}

std::vector<double> Session::tick_times_ms() {
  std::lock_guard lock(tick_times_mutex_);
  return {tick_times_.begin(), tick_times_.end()};
}

void Session::start_worker() {
  worker_ = std::thread([this] { worker_loop(); });
}

// Ticks at the scene's control rate while playing (as fast as possible with max speed); runs
// commands between ticks; sleeps otherwise.
void Session::worker_loop() {
  using clock = std::chrono::steady_clock;
  auto next = clock::now();
  while (!stop_) {
    run_commands();
    const auto period = std::chrono::duration_cast<clock::duration>(
        std::chrono::duration<double>(1.0 / std::max(1.0, scene_->control_hz)));
    const bool step = step_requests_.load() > 0;
    if (step || (playing_ && (max_speed_ || clock::now() >= next))) {
      if (step) step_requests_.fetch_sub(1);
      tick_once();
      next = std::max(next + period, clock::now() - period);
      continue;
    }
    std::unique_lock lock(cv_mutex_);
    cv_.wait_until(lock, playing_ ? next : clock::now() + std::chrono::milliseconds(20));
  }
}

}  // namespace parallax::viewer
