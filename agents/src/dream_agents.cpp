// Planning episodes judged by Bullet, and policy evaluation in the model (dream_agents.hpp).
#include "parallax/agents/dream_agents.hpp"
#include "parallax/agents/pose_plan_model.hpp"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <optional>
#include <stdexcept>

#include "parallax/agents/approach_limit.hpp"
#include "parallax/agents/episode_recorder.hpp"
#include "parallax/agents/policy.hpp"
#include "parallax/agents/reach_shaping.hpp"
#include "parallax/agents/stats.hpp"
#include "parallax/sim/renderer.hpp"
#include "parallax/sim/world.hpp"

namespace parallax::agents {

namespace {

using nlohmann::json;

// One World's current frame, with its own body colours and sizes: [H, W, 3] u8.
class FrameRenderer {
 public:
  explicit FrameRenderer(std::shared_ptr<const sim::SceneModel> scene)
      : scene_(scene), renderer_(scene), inputs_(*scene) {}
  int height() const { return renderer_.height(); }
  int width() const { return renderer_.width(); }
  std::size_t frame_size() const { return static_cast<std::size_t>(height()) * width() * 3; }
  void render(const sim::World& w, std::uint8_t* rgb, std::uint8_t* ids = nullptr) {
    renderer_.render(inputs_.gather(w), rgb, ids);
  }

 private:
  std::shared_ptr<const sim::SceneModel> scene_;
  sim::Renderer renderer_;
  sim::WorldRenderInputs inputs_;
};

void check_fits(const sim::SceneModel& scene, const worldmodel::ModelInfo& info) {
  if (info.height != scene.camera.height || info.width != scene.camera.width ||
      info.action_size != scene.action_size())
    throw std::runtime_error(
        "the model expects " + std::to_string(info.height) + "x" + std::to_string(info.width) +
        " frames and " + std::to_string(info.action_size) + " actions, scene '" + scene.name +
        "' has " + std::to_string(scene.camera.height) + "x" + std::to_string(scene.camera.width) +
        " and " + std::to_string(scene.action_size()));
}

// Context tensors from HWC frames (oldest first) and the actions before each:
// ([C', 3, H, W] u8, [C', A] f32).
std::pair<torch::Tensor, torch::Tensor> context_tensors(
    const std::vector<std::vector<std::uint8_t>>& frames,
    const std::vector<std::vector<float>>& actions, int h, int w) {
  const int c = static_cast<int>(frames.size()), a = static_cast<int>(actions[0].size());
  auto f = torch::empty({c, h, w, 3}, torch::kUInt8);
  auto act = torch::empty({c, a}, torch::kFloat32);
  const std::size_t fsz = static_cast<std::size_t>(h) * w * 3;
  for (int i = 0; i < c; ++i) {
    std::copy_n(frames[i].data(), fsz, f.data_ptr<std::uint8_t>() + i * fsz);
    std::copy_n(actions[i].data(), a, act.data_ptr<float>() + i * a);
  }
  return {f.permute({0, 3, 1, 2}).contiguous(), act};
}

// Bullet scores the planner's last candidates and its chosen plan from the true state `saved`.
PlanDecision verify_decision(BulletPlanModel& verifier, const sim::WorldState& saved,
                             const Planner& planner, const std::vector<float>& chosen,
                             const sim::SceneModel& scene, const sim::World& world, int episode,
                             int tick) {
  const int k = planner.options().candidates, l = planner.options().horizon;
  const auto cands = planner.last_candidates();
  const auto rets = planner.last_returns();
  const auto fin = planner.last_finalists();
  const int n = static_cast<int>(planner.last_finalist_returns().size());
  std::vector<float> plans(cands.begin(), cands.end());
  plans.insert(plans.end(), chosen.begin(), chosen.end());
  plans.insert(plans.end(), fin.begin(), fin.end());
  std::vector<double> truth(k + 1 + n);
  std::vector<std::uint8_t> ok(k + 1 + n);
  verifier.set_root(saved);
  verifier.score_outcomes(plans, k + 1 + n, l, planner.options().gamma, truth, ok);
  PlanDecision d;
  d.episode = episode;
  d.tick = tick;
  d.imagined = planner.best_return();
  d.verified = truth[k];
  d.chosen_success = ok[k] != 0;
  d.candidates_success = static_cast<int>(std::count(ok.begin(), ok.begin() + k, 1));
  d.chosen_plan = chosen;
  d.action_limit = planner.options().action_limit;
  const auto fr = planner.last_finalist_returns(), jr = planner.last_judge_returns();
  d.finalist_returns.assign(fr.begin(), fr.end());
  d.judge_returns.assign(jr.begin(), jr.end());
  d.judge_pick = planner.last_judge_pick();
  d.finalist_bullet_returns.assign(truth.begin() + k + 1, truth.end());
  d.imagined_returns.assign(rets.begin(), rets.end());
  d.bullet_returns.assign(truth.begin(), truth.begin() + k);
  d.check = check_decision(d.imagined_returns, d.bullet_returns);
  const std::size_t nb = scene.bodies.size();
  std::vector<float> poses(nb * 7);
  world.poses(poses);
  for (std::size_t b = 0; b < nb; ++b) {
    d.body_xy.push_back(poses[b * 7]);
    d.body_xy.push_back(poses[b * 7 + 1]);
  }
  return d;
}

}  // namespace

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return std::nan("");
  std::sort(v.begin(), v.end());
  const double pos = std::clamp(p, 0.0, 100.0) / 100.0 * static_cast<double>(v.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(pos));
  const std::size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (pos - static_cast<double>(lo)) * (v[hi] - v[lo]);
}

const char* pose_model_refusal(const PlanRunOptions& o) {
  return !o.ensemble.empty()                          ? "an ensemble"
         : o.terminal_value                           ? "a terminal value"
         : o.judge                                    ? "a judge"
         : o.own_body_frames                          ? "own bodies in the frames"
         : o.rest_tolerance != 0.0                    ? "a rest tolerance"
         : o.contact_gate != 0.0                      ? "a contact gate"
         : o.edge_guard                               ? "the edge guard"
         : o.edge_reader                              ? "the edge reader"
         : o.cuda_graph                               ? "CUDA graphs"
         : o.precision != worldmodel::Precision::kF32 ? "a precision other than f32"
                                                      : nullptr;
}

PlanReport run_plan(std::shared_ptr<const sim::SceneModel> scene,
                    std::shared_ptr<worldmodel::WorldModel> model, const PlanRunOptions& o,
                    const AgentProgress& progress) {
  validate(o.planner);
  const bool dreaming = o.world == "dream";
  if (!dreaming && o.world != "bullet")
    throw std::invalid_argument("plan: world must be dream or bullet, got '" + o.world + "'");
  const bool posed = dreaming && o.pose_model;  // the dream in pose space
  if (o.pose_model && !dreaming)
    throw std::invalid_argument("plan: a pose-space model needs world dream");
  if (posed && model)
    throw std::invalid_argument("plan: a pose-space model replaces the world model: give one");
  if (posed)
    if (const char* bad = pose_model_refusal(o))
      throw std::invalid_argument(std::string("plan: the pose-space model does not take ") + bad +
                                  " (an option of world models of frames)");
  if (dreaming && !model && !posed) throw std::invalid_argument("plan: world dream needs a model");
  const int l = o.planner.horizon, a = scene->action_size();
  if (o.replan_every < 1 || o.replan_every > l)
    throw std::invalid_argument("plan: replan every must be in [1, horizon], got " +
                                std::to_string(o.replan_every));
  if (o.resync_every < 0) throw std::invalid_argument("plan: resync every must be >= 0");
  if (o.episodes < 1) throw std::invalid_argument("plan: episodes must be >= 1");
  if (dreaming && !posed) check_fits(*scene, model->info());
  if (o.judge && !dreaming) throw std::invalid_argument("plan: a judge needs world dream");
  if (static_cast<bool>(o.judge) != (o.planner.finalists > 0))
    throw std::invalid_argument(o.judge ? "plan: a judge needs finalists > 0"
                                        : "plan: finalists need a judge");
  if (o.judge) check_fits(*scene, o.judge->info());
  std::optional<ReachShaping> reach;
  if (o.reach != 0.0) {
    reach = ReachShaping::from_scene(*scene, o.reach, o.reach_behind);
    if (dreaming && !o.pose_reward && !posed)
      throw std::invalid_argument(
          "plan: reach shaping in the dream needs the reward from poses (a reward head has no "
          "term for it)");
  }
  std::optional<ApproachLimit> approach;
  if (o.approach_radius != 0.0)
    approach = ApproachLimit::from_scene(*scene, o.approach_radius, o.approach_floor);
  const int steps = o.max_steps > 0 ? o.max_steps : scene->episode_steps;

  FrameRenderer render(scene);
  const int h = render.height(), w = render.width();
  const std::size_t fsz = render.frame_size();
  std::unique_ptr<DreamPlanModel> dream, judge;
  bool report_graph = false;
  std::unique_ptr<BulletPlanModel> oracle;
  std::unique_ptr<PosePlanModel> pose_dream;
  if (posed) {
    pose_dream = std::make_unique<PosePlanModel>(scene, o.pose_model, o.planner.candidates,
                                                 reach ? &*reach : nullptr);
  } else if (dreaming) {
    dream = std::make_unique<DreamPlanModel>(model, o.planner.candidates, torch::Device(o.device));
    for (const auto& member : o.ensemble) {
      check_fits(*scene, member->info());
      dream->add_member(member);
    }
    dream->set_pessimism(o.pessimism);
    dream->set_terminal_value(o.terminal_value);
    if (o.pose_reward) dream->set_pose_reward(*scene, reach ? &*reach : nullptr);
    dream->set_rest_tolerance(o.rest_tolerance);
    dream->set_contact_gate(o.contact_gate);
    dream->set_proprioception(o.proprioception);
    dream->set_own_body_frames(o.own_body_frames);
    dream->set_edge_guard(o.edge_guard);
    dream->set_edge_reader(o.edge_reader);
    dream->set_precision(o.precision);
    if (o.judge) {
      judge =
          std::make_unique<DreamPlanModel>(o.judge, o.planner.finalists, torch::Device(o.device));
      if (o.pose_reward) judge->set_pose_reward(*scene, reach ? &*reach : nullptr);
      judge->set_rest_tolerance(o.judge_rest_tolerance);
      judge->set_contact_gate(o.judge_contact_gate);
      judge->set_proprioception(o.proprioception);
      judge->set_edge_guard(o.judge_edge_guard);
      judge->set_edge_reader(o.judge_edge_reader);
      judge->set_precision(o.judge_precision);
      if (judge->proprioceptive_bodies() != dream->proprioceptive_bodies())
        throw std::invalid_argument(
            "plan: the judge's own bodies differ from the model's (proprioception)");
    }
    if (o.cuda_graph)
      report_graph = dream->use_cuda_graph(true) && (!judge || judge->use_cuda_graph(true));
    if (approach && !dream->poses_from_frames())
      throw std::invalid_argument(
          "plan: an approach limit in the dream needs the reward from poses found in frames (the "
          "task's body is read in the perceived frame)");
  } else {
    oracle = std::make_unique<BulletPlanModel>(scene, o.planner.candidates, o.threads);
    if (reach) oracle->set_reach(*reach);
  }
  // The verifier scores the last iteration's K candidates and the chosen plan (by the planner's
  // objective: with reach shaping too).
  std::unique_ptr<BulletPlanModel> verifier;
  if (o.verify) {
    verifier = std::make_unique<BulletPlanModel>(
        scene, o.planner.candidates + 1 + o.planner.finalists, o.threads);
    if (reach) verifier->set_reach(*reach);
  }
  const bool true_state = !dreaming || o.verify;  // decisions need Bullet's exact state
  PlanModel& plan_model = posed      ? static_cast<PlanModel&>(*pose_dream)
                          : dreaming ? static_cast<PlanModel&>(*dream)
                                     : *oracle;
  // Frames the agent keeps: the most any of its models reads (the pose-space model: two).
  const int c = posed      ? 2
                : dreaming ? std::max({1, model->info().context_frames,
                                       o.judge ? o.judge->info().context_frames : 0})
                           : 1;
  Planner planner(o.planner, a);

  PlanReport report;
  report.height = h, report.width = w;
  report.cuda_graph = report_graph;
  double successes = 0, returns = 0;
  for (int e = 0; e < o.episodes; ++e) {
    PlanEpisode ep;
    ep.seed = o.seed + static_cast<std::uint64_t>(e);
    sim::World world(scene, ep.seed);
    planner.reset(ep.seed);
    std::vector<std::uint8_t> frame(fsz);
    const bool recording = static_cast<bool>(o.record);
    std::vector<std::uint8_t> ids(recording ? static_cast<std::size_t>(h) * w : 0);
    std::vector<float> poses(recording ? scene->bodies.size() * 7 : 0);
    worldmodel::Episode rec;
    auto record_frame = [&] {
      world.poses(poses);
      append_frame(rec, frame.data(), ids.data(), poses, h, w);
    };
    render.render(world, frame.data(), recording ? ids.data() : nullptr);
    if (recording) {
      rec.seed = ep.seed;
      record_frame();
    }
    // What the agent perceives (dream): the last C frames and the actions before each.
    std::vector<std::vector<std::uint8_t>> seen{frame};
    std::vector<std::vector<float>> seen_actions{std::vector<float>(a, 0.0f)};
    std::vector<float> markers(scene->markers.size() * 3);
    std::vector<int> own;  // proprioception: scene indices of the agent's own bodies
    if (posed)
      own.push_back(scene->body_index(o.pose_model->driver()));
    else if (dreaming && o.proprioception)
      for (const auto& name : dream->proprioceptive_bodies())
        own.push_back(scene->body_index(name));
    std::vector<float> own_poses(scene->bodies.size() * 7), own_xy(2 * own.size());
    PosePlanModel::Root pose_root;  // the pose-space model's last root in this episode
    bool pose_rooted = false;
    // `undo`: an action the world has taken since the last perceived frame (the model is about
    // to imagine that frame): its own bodies are moved back by it, so that they stand where they
    // stood in the root's last frame.
    auto set_dream_root = [&](std::span<const float> undo = {}) {
      if (!own.empty()) {
        // Proprioception: where its own bodies stand, as the agent knows it (the true x, y).
        world.poses(own_poses);
        for (std::size_t q = 0; q < own.size(); ++q)
          own_xy[2 * q] = own_poses[7 * own[q]], own_xy[2 * q + 1] = own_poses[7 * own[q] + 1];
        if (!undo.empty()) {
          std::vector<float> back(undo.begin(), undo.end());
          for (float& v : back) v = -v;
          if (posed)
            pose_dream->move_driver(own_xy, back);
          else
            dream->move_own(own_xy, back);
        }
      }
      if (o.pose_reward || posed) world.marker_positions(markers);  // the goal, as told
      if (posed) {
        std::vector<std::uint8_t> flat;
        for (const auto& s : seen) flat.insert(flat.end(), s.begin(), s.end());
        pose_dream->set_markers(markers);
        pose_dream->set_root(flat.data(), static_cast<int>(seen.size()), own_xy,
                             seen_actions.back(), pose_rooted ? &pose_root : nullptr);
        pose_root = pose_dream->root();  // this episode's: an unseen cube stays where it was
        pose_rooted = true;
        return;
      }
      auto [f, act] = context_tensors(seen, seen_actions, h, w);  // frame models only
      for (auto* m : {dream.get(), judge.get()}) {
        if (!m) continue;
        // The judge (its context may be shorter) sees the last frames of the same stream.
        const int cm = std::max(1, m->info().context_frames);
        const auto n = f.size(0);
        m->set_root(f.slice(0, std::max<std::int64_t>(0, n - cm)),
                    act.slice(0, std::max<std::int64_t>(0, n - cm)));
        if (!own.empty()) m->set_proprioception_xy(own_xy);
        if (o.pose_reward) m->set_markers(markers);
      }
    };
    if (o.strips) {
      ep.strip_frames = l + 1;
      ep.strip.assign(2 * (l + 1) * fsz, 0);
      std::copy_n(frame.data(), fsz, ep.strip.data());                  // imagined, t = 0
      std::copy_n(frame.data(), fsz, ep.strip.data() + (l + 1) * fsz);  // happened, t = 0
    }
    std::vector<float> plan;
    std::vector<float> executed;  // the oracle: every action so far [t, A]
    int plan_at = -1;
    for (int t = 0; t < steps; ++t) {
      // ---- a decision ----
      if (plan_at < 0 || t - plan_at >= o.replan_every) {
        if (plan_at >= 0) planner.shift(t - plan_at);
        sim::WorldState saved;
        if (true_state) {
          // Saving drops Bullet's contact caches in the world saved (world.hpp): the episode's
          // own world never saves, so that it stays the plain replay of its actions (what
          // --record and fidelity --data rely on); a twin replays them from the seed and is
          // saved instead (the same state, bit for bit).
          sim::World twin(scene, ep.seed);
          for (std::size_t q = 0; q < executed.size(); q += a)
            twin.step(std::span<const float>(executed).subspan(q, a));
          saved = twin.save_state();
        }
        // The decision's time: reading the root (the pose-space model reads the cube in the
        // frames; the oracle restores its state), planning.
        const auto t0 = std::chrono::steady_clock::now();
        if (dreaming)
          set_dream_root();
        else
          oracle->set_root(saved);
        if (approach) {
          // The task's body and goal as the planner's world perceives them: Bullet's state, or
          // in the dream the perceived frame's reading (the goal marker, as the agent is told
          // it); a body the frame does not show leaves the limit at its full value.
          std::vector<float> pose(scene->bodies.size() * 7), goal_markers(markers.size());
          world.poses(pose);
          world.marker_positions(goal_markers);
          double d = 0;
          if (dreaming) {
            const auto& task = approach->task;
            bool seen_all = true;
            for (int b : {task.target, task.goal_body}) {
              if (b < 0) continue;
              const auto xy = posed ? pose_dream->root_position(scene->bodies[b].name)
                                    : dream->root_position(scene->bodies[b].name);
              seen_all = seen_all && xy.has_value();
              if (xy) pose[7 * b] = (*xy)[0], pose[7 * b + 1] = (*xy)[1];
            }
            d = seen_all ? task.distance(pose, goal_markers)
                         : std::numeric_limits<double>::quiet_NaN();
          } else {
            d = approach->task.distance(pose, goal_markers);
          }
          planner.set_action_limit(
              static_cast<float>(o.planner.action_limit * approach->fraction(d)));
        }
        const auto chosen = planner.plan(plan_model, judge.get());
        const double ms =
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                .count();
        report.latency_ms.push_back(ms);
        report.judge_overrides += planner.last_judge_pick() > 0;
        plan.assign(chosen.begin(), chosen.end());
        if (verifier)
          report.decisions.push_back(
              verify_decision(*verifier, saved, planner, plan, *scene, world, e, t));
        if (plan_at < 0) {
          ep.first_imagined_return = planner.best_return();
          if (o.strips) {
            // The chosen plan as the planner's model sees it.
            std::vector<std::uint8_t> imagined;
            if (posed) {
              imagined = pose_dream->imagine(plan, l);
            } else if (dreaming) {
              imagined = dream->imagine(plan, l);
            } else {
              sim::World copy(scene, ep.seed);
              copy.restore_state(saved);
              imagined.assign(l * fsz, 0);
              for (int s = 0; s < l; ++s) {
                const auto r = copy.step(std::span(plan).subspan(s * a, a));
                render.render(copy, imagined.data() + s * fsz);
                if (r.terminated || r.truncated) {
                  for (int q = s + 1; q < l; ++q)
                    std::copy_n(imagined.data() + s * fsz, fsz, imagined.data() + q * fsz);
                  break;
                }
              }
            }
            std::copy(imagined.begin(), imagined.end(), ep.strip.begin() + fsz);
          }
        }
        plan_at = t;
        ++ep.decisions;
      }
      // ---- execute one action in Bullet ----
      const std::span<const float> act(plan.data() + static_cast<std::size_t>(t - plan_at) * a, a);
      const auto res = world.step(act);
      if (true_state) executed.insert(executed.end(), act.begin(), act.end());
      ep.ret += res.reward;
      render.render(world, frame.data(), recording ? ids.data() : nullptr);
      if (recording) {
        rec.actions.insert(rec.actions.end(), act.begin(), act.end());
        rec.rewards.push_back(res.reward);
        rec.terminations.push_back(res.terminated ? 1 : 0);
        rec.truncations.push_back(res.truncated || (!res.terminated && t + 1 == steps) ? 1 : 0);
        rec.steps = t + 1;
        record_frame();
      }
      if (o.strips && t + 1 <= l)
        std::copy_n(frame.data(), fsz, ep.strip.data() + (l + 1 + t + 1) * fsz);
      ep.steps = t + 1;
      if (res.terminated || res.truncated) break;
      // ---- what the agent perceives next ----
      if (dreaming) {
        std::vector<std::uint8_t> next = frame;
        if (o.resync_every == 0 || (t + 1) % o.resync_every != 0) {
          set_dream_root(act);
          // The model's own prediction of this frame.
          next = posed ? pose_dream->imagine(act, 1) : dream->imagine(act, 1);
        }
        seen.push_back(std::move(next));
        seen_actions.emplace_back(act.begin(), act.end());
        if (static_cast<int>(seen.size()) > c) {
          seen.erase(seen.begin());
          seen_actions.erase(seen_actions.begin());
        }
      }
    }
    ep.success = is_success(*scene, world);
    if (recording) o.record(std::move(rec));
    successes += ep.success;
    returns += ep.ret;
    report.episodes.push_back(std::move(ep));
    if (progress) progress("episodes", e + 1, o.episodes);
  }
  report.success_rate = successes / o.episodes;
  report.mean_return = returns / o.episodes;
  report.p50_ms = percentile(report.latency_ms, 50);
  report.p90_ms = percentile(report.latency_ms, 90);
  report.p99_ms = percentile(report.latency_ms, 99);
  return report;
}

namespace {

// Means over the verified decisions of one episode (episode >= 0) or of all (-1).
json verify_summary(const std::vector<PlanDecision>& decisions, int episode) {
  int n = 0, ranked = 0, chosen_ok = 0, solvable = 0, missed = 0;
  double top1 = 0, chance = 0, regret = 0, rho = 0, optimism = 0;
  for (const auto& d : decisions) {
    if (episode >= 0 && d.episode != episode) continue;
    ++n;
    top1 += d.check.top1;
    chance += d.check.chance_top1;
    regret += d.check.regret;
    if (std::isfinite(d.check.spearman)) rho += d.check.spearman, ++ranked;
    optimism += d.imagined - d.verified;
    chosen_ok += d.chosen_success;
    const bool any = d.chosen_success || d.candidates_success > 0;
    solvable += any;
    missed += any && !d.chosen_success;
  }
  const auto mean = [&](double sum, int count) {
    return count ? json(sum / count) : json(nullptr);
  };
  return {{"decisions", n},
          {"top1_agreement", mean(top1, n)},
          {"chance_top1", mean(chance, n)},
          {"normalised_regret", mean(regret, n)},
          {"spearman", mean(rho, ranked)},
          {"optimism", mean(optimism, n)},
          {"chosen_success_rate", mean(chosen_ok, n)},
          {"solvable_rate", mean(solvable, n)},
          {"missed_rate", mean(missed, n)}};
}

}  // namespace

json PlanDecision::to_json() const {
  return {{"episode", episode},
          {"tick", tick},
          {"imagined", imagined},
          {"verified", verified},
          {"chosen_success", chosen_success},
          {"candidates_success", candidates_success},
          {"top1", check.top1},
          {"chance_top1", check.chance_top1},
          {"regret", check.regret},
          {"stakes", check.stakes},
          {"spearman", std::isfinite(check.spearman) ? json(check.spearman) : json(nullptr)},
          {"chosen_plan", chosen_plan},
          {"imagined_returns", imagined_returns},
          {"bullet_returns", bullet_returns},
          {"body_xy", body_xy},
          {"action_limit", action_limit},
          {"finalist_returns", finalist_returns},
          {"judge_returns", judge_returns},
          {"finalist_bullet_returns", finalist_bullet_returns},
          {"judge_pick", judge_pick}};
}

json PlanReport::to_json(const PlanRunOptions& o, const std::string& scene,
                         const std::string& model_description) const {
  json eps = json::array();
  for (std::size_t i = 0; i < episodes.size(); ++i) {
    const auto& e = episodes[i];
    eps.push_back({{"seed", e.seed},
                   {"return", e.ret},
                   {"success", e.success},
                   {"steps", e.steps},
                   {"decisions", e.decisions},
                   {"first_imagined_return", e.first_imagined_return}});
    if (o.verify) eps.back()["verify"] = verify_summary(decisions, static_cast<int>(i));
  }
  json j = {
      {"scene", scene},
      {"world", o.world},
      {"model", o.world == "dream" ? json(model_description) : json(nullptr)},
      {"planner",
       {{"kind", to_string(o.planner.kind)},
        {"candidates", o.planner.candidates},
        {"horizon", o.planner.horizon},
        {"iterations", o.planner.iterations},
        {"elites", o.planner.elites},
        {"temperature", o.planner.temperature},
        {"gamma", o.planner.gamma},
        {"seed", o.planner.seed}}},
      {"replan_every", o.replan_every},
      {"resync_every", o.world == "dream" ? json(o.resync_every) : json(nullptr)},
      {"terminal_value", o.world == "dream" && o.terminal_value},
      {"reach", o.reach},
      {"reach_behind", o.reach_behind},
      {"precision", o.world == "dream" ? json(worldmodel::to_string(o.precision)) : json(nullptr)},
      {"episodes", static_cast<int>(episodes.size())},
      {"seed", o.seed},
      {"success_rate", success_rate},
      {"mean_return", mean_return},
      {"decisions", static_cast<int>(latency_ms.size())},
      {"latency_ms", {{"p50", p50_ms}, {"p90", p90_ms}, {"p99", p99_ms}}},
      {"per_episode", eps}};
  if (o.verify) j["verify"] = verify_summary(decisions, -1);
  if (o.world == "dream") j["cuda_graph"] = cuda_graph;
  if (o.judge)
    j["judge"] = {
        {"finalists", o.planner.finalists},
        {"finalist_distance", o.planner.finalist_distance},
        {"horizon", o.planner.judge_horizon > 0 ? o.planner.judge_horizon : o.planner.horizon},
        {"overrides", judge_overrides},
        {"rest_tolerance_m", o.judge_rest_tolerance},
        {"contact_gate_m", o.judge_contact_gate},
        {"edge_guard", o.judge_edge_guard},
        {"edge_reader", o.judge_edge_reader},
        {"precision", worldmodel::to_string(o.judge_precision)}};
  return j;
}

// ---- policy evaluation in the model ---------------------------------------------------------

json evaluate_policies(std::shared_ptr<const sim::SceneModel> scene,
                       std::shared_ptr<worldmodel::WorldModel> model, const PolicyEvalOptions& o,
                       const AgentProgress& progress) {
  if (!model) throw std::invalid_argument("evaluate: needs a model");
  if (o.episodes < 1) throw std::invalid_argument("evaluate: episodes must be >= 1");
  check_fits(*scene, model->info());
  std::vector<std::string> policies = o.policies;
  if (policies.empty()) policies = policy_kinds(*scene);
  const int np = static_cast<int>(policies.size()), ne = o.episodes, n = np * ne;
  const int a = scene->action_size();
  const int steps = o.max_steps > 0 ? o.max_steps : scene->episode_steps;
  FrameRenderer render(scene);
  const int h = render.height(), w = render.width();
  const std::size_t fsz = render.frame_size();

  // ---- Bullet: every policy's episodes, their actions and true returns ----
  std::vector<float> actions(static_cast<std::size_t>(n) * steps * a, 0.0f);  // [N, T, A]
  std::vector<int> length(n, 0);
  std::vector<double> true_ret(n, 0), pred_ret(n, 0);
  std::vector<std::uint8_t> first(static_cast<std::size_t>(n) * fsz);  // [N, H, W, 3]
  std::vector<std::uint64_t> seeds(n);
  const std::size_t nm3 = scene->markers.size() * 3;
  std::vector<float> markers(static_cast<std::size_t>(n) * nm3);  // [N, M, 3] the goal
  std::vector<std::uint8_t> frame(fsz);
  for (int p = 0; p < np; ++p) {
    // The planner sees the frames (it is the one policy that reads them); the others the state.
    const bool sees = policies[p] == "planner";
    if (sees && !o.planner_model && !o.planner_pose_model)
      throw std::invalid_argument("evaluate: the policy 'planner' needs a planner model");
    std::unique_ptr<Policy> policy =
        !sees ? make_policy(policies[p], scene, 1, o.seed)
        : o.planner_pose_model
            ? std::make_unique<PlannerPolicy>(scene, o.planner_pose_model, o.planner, 1)
            : std::make_unique<PlannerPolicy>(scene, o.planner_model, o.planner, 1);
    for (int e = 0; e < ne; ++e) {
      const int i = p * ne + e;
      seeds[i] = o.seed + static_cast<std::uint64_t>(p) * 100000ull + e;
      sim::World world(scene, seeds[i]);
      policy->reset(0, seeds[i]);
      render.render(world, first.data() + i * fsz);
      world.marker_positions(std::span<float>(markers.data() + i * nm3, nm3));
      for (int t = 0; t < steps; ++t) {
        const std::span<float> act(actions.data() + (static_cast<std::size_t>(i) * steps + t) * a,
                                   a);
        if (sees) {
          render.render(world, frame.data());
          act_on_world(*policy, world, act, frame, h, w);
        } else {
          act_on_world(*policy, world, act);
        }
        const auto r = world.step(act);
        true_ret[i] += r.reward;
        length[i] = t + 1;
        if (r.terminated || r.truncated) break;
      }
      if (progress) progress("bullet", i + 1, n);
    }
  }

  // ---- the dream: the same actions, open loop from each episode's first frame ----
  // Scored as a plan of the episode's length (DreamPlanModel, K = 1, no discount): the same
  // sum of rewards weighted by the continue head as a planner's, from the reward head or the
  // scene's reward on the predicted poses.
  DreamPlanModel dream(model, 1, torch::Device(o.device));
  if (o.pose_reward) dream.set_pose_reward(*scene);
  dream.set_precision(o.precision);
  const auto no_action = torch::zeros({1, a}, torch::kFloat32);
  for (int i = 0; i < n; ++i) {
    dream.set_markers(std::span<const float>(markers.data() + i * nm3, nm3));
    dream.set_root(torch::from_blob(first.data() + i * fsz, {1, h, w, 3}, torch::kUInt8)
                       .permute({0, 3, 1, 2})
                       .contiguous(),
                   no_action);
    double r = 0;
    dream.score(std::span<const float>(actions.data() + static_cast<std::size_t>(i) * steps * a,
                                       static_cast<std::size_t>(length[i]) * a),
                1, length[i], 1.0f, std::span<double>(&r, 1));
    pred_ret[i] = r;
    if (progress) progress("dream", i + 1, n);
  }

  // ---- the report ----
  json per_policy = json::array();
  std::vector<double> true_mean(np, 0), pred_mean(np, 0);
  for (int p = 0; p < np; ++p) {
    std::vector<double> tr(true_ret.begin() + p * ne, true_ret.begin() + (p + 1) * ne);
    std::vector<double> pr(pred_ret.begin() + p * ne, pred_ret.begin() + (p + 1) * ne);
    for (int e = 0; e < ne; ++e) true_mean[p] += tr[e] / ne, pred_mean[p] += pr[e] / ne;
    per_policy.push_back({{"policy", policies[p]},
                          {"return_bullet", true_mean[p]},
                          {"return_dream", pred_mean[p]},
                          {"returns_bullet", tr},
                          {"returns_dream", pr},
                          {"seeds", std::vector<std::uint64_t>(seeds.begin() + p * ne,
                                                               seeds.begin() + (p + 1) * ne)}});
  }
  auto finite_or_null = [](double v) { return std::isfinite(v) ? json(v) : json(nullptr); };
  const auto rank_b = average_ranks(true_mean), rank_d = average_ranks(pred_mean);
  return {{"scene", scene->name},
          {"episodes_per_policy", ne},
          {"max_steps", steps},
          {"seed", o.seed},
          {"reward", o.pose_reward ? "poses" : "head"},
          {"precision", worldmodel::to_string(o.precision)},
          {"poses_from", !o.pose_reward              ? json(nullptr)
                         : dream.poses_from_frames() ? json("frames")
                                                     : json("pose head")},
          {"policies", per_policy},
          {"pearson", finite_or_null(pearson(true_ret, pred_ret))},
          {"spearman", finite_or_null(spearman(true_ret, pred_ret))},
          {"ranking_bullet", rank_b},
          {"ranking_dream", rank_d},
          {"ranking_preserved", same_ranking(true_mean, pred_mean)}};
}

}  // namespace parallax::agents
