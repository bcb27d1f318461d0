// parallax plan: MPC with a planner (shooting, CEM, MPPI) whose model is the dream or Bullet (the
// oracle); Bullet judges every episode (agents/dream_agents.hpp).
#include <torch/torch.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "common.hpp"
#include "flag_checks.hpp"
#include "parallax/agents/approach_limit.hpp"
#include "parallax/agents/dream_agents.hpp"
#include "parallax/agents/model_source.hpp"
#include "parallax/agents/pose_dynamics.hpp"
#include "parallax/agents/reach_shaping.hpp"
#include "parallax/sim/image_io.hpp"
#include "parallax/worldmodel/episode_store.hpp"
#include "parallax/worldmodel/model_file.hpp"
#include "parallax/worldmodel/torch_setup.hpp"
#include "precision_flag.hpp"

namespace parallax::cli {
namespace {

namespace fs = std::filesystem;

struct PlanArgs {
  std::string scene = "push", model, planner = "cem", world = "dream", precision = "f32";
  int k = 64, horizon = 15, iterations = 4, elites = 8, episodes = 10;
  int replan_every = 1, resync_every = 1, max_steps = 0, threads = 0;
  double action_limit = 1.0;
  double temperature = 0.1, gamma = 0.99, pessimism = 1.0, rest_tolerance = 0.0, contact_gate = 0.0;
  double reach = 0.0;
  double reach_behind = 0.0;
  double approach = 0.0, approach_floor = 0.3;
  std::vector<std::string> ensemble;
  std::string judge, judge_precision;
  int finalists = 2, judge_horizon = 0;
  double finalist_distance = 0.0;
  double judge_rest_tolerance = 0.0, judge_contact_gate = 0.0;
  bool judge_edge_guard = false, judge_edge_reader = false;
  std::uint64_t seed = 0, planner_seed = 0;
  std::string device = "cpu", out, record, reward = "head";
  bool json_out = false, quiet = false, value = false, verify = false, proprioception = false;
  bool own_body_frames = false, edge_guard = false, edge_reader = false, cuda_graph = false;
};

void run(const PlanArgs& a) {
  agents::PlanRunOptions o;
  try {
    o.planner.kind = agents::planner_kind_from_string(a.planner);
  } catch (const std::invalid_argument& e) {
    throw UsageError(std::string("--planner: ") + e.what());
  }
  if (a.world != "dream" && a.world != "bullet")
    throw UsageError("--world must be dream or bullet, got '" + a.world + "'");
  check_device(a.device);
  if (a.episodes < 1 || a.episodes > 100000)
    throw UsageError("--episodes must be in [1, 100000], got " + std::to_string(a.episodes));
  o.planner.candidates = a.k;
  o.planner.horizon = a.horizon;
  o.planner.iterations = a.iterations;
  o.planner.elites = std::min(a.elites, a.k);
  o.planner.temperature = static_cast<float>(a.temperature);
  o.planner.gamma = static_cast<float>(a.gamma);
  o.planner.action_limit = static_cast<float>(a.action_limit);
  o.planner.seed = a.planner_seed;
  if (!a.judge.empty()) {
    if (a.world != "dream") throw UsageError("--judge needs --world dream");
    if (a.finalists < 1 || a.finalists > 1024)
      throw UsageError("--finalists must be in [1, 1024], got " + std::to_string(a.finalists));
    o.planner.finalists = a.finalists;
    o.planner.judge_horizon = a.judge_horizon;
    o.planner.finalist_distance = static_cast<float>(a.finalist_distance);
  } else if (a.judge_horizon != 0 || a.finalist_distance != 0.0) {
    throw UsageError("--judge-horizon and --finalist-distance need --judge");
  }
  try {
    agents::validate(o.planner);
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
  if (a.replan_every < 1 || a.replan_every > a.horizon)
    throw UsageError("--replan-every must be in [1, --horizon], got " +
                     std::to_string(a.replan_every));
  if (a.resync_every < 0) throw UsageError("--resync-every must be >= 0");
  if (!(a.pessimism >= 0.0)) throw UsageError("--pessimism must be >= 0");
  if (!a.ensemble.empty() && a.world != "dream") throw UsageError("--ensemble needs --world dream");
  if (a.value && a.world != "dream") throw UsageError("--value needs --world dream");
  if (a.reward != "head" && a.reward != "poses")
    throw UsageError("--reward must be head or poses, got '" + a.reward + "'");
  if (a.reward == "poses" && a.world != "dream")
    throw UsageError("--reward poses needs --world dream");
  o.precision = parse_precision(a.precision, a.device);
  if (o.precision != worldmodel::Precision::kF32 && a.world != "dream")
    throw UsageError("--precision " + a.precision + " needs --world dream");
  if (!std::isfinite(a.rest_tolerance) || a.rest_tolerance < 0.0)
    throw UsageError("--rest-tolerance must be a finite number of metres >= 0, got " +
                     std::to_string(a.rest_tolerance));
  if (a.rest_tolerance > 0.0 && a.reward != "poses")
    throw UsageError("--rest-tolerance needs --reward poses");
  o.rest_tolerance = a.rest_tolerance;
  if (!std::isfinite(a.contact_gate) || a.contact_gate < 0.0)
    throw UsageError("--contact-gate must be a finite number of metres >= 0, got " +
                     std::to_string(a.contact_gate));
  if (a.contact_gate > 0.0 && a.reward != "poses")
    throw UsageError("--contact-gate needs --reward poses");
  o.contact_gate = a.contact_gate;
  if (a.proprioception && a.reward != "poses")
    throw UsageError("--proprioception needs --reward poses");
  o.proprioception = a.proprioception;
  if (a.own_body_frames && !a.proprioception)
    throw UsageError("--own-body-frames needs --proprioception");
  o.own_body_frames = a.own_body_frames;
  if (a.edge_guard && a.reward != "poses") throw UsageError("--edge-guard needs --reward poses");
  o.edge_guard = a.edge_guard;
  if (a.edge_reader && a.reward != "poses") throw UsageError("--edge-reader needs --reward poses");
  o.edge_reader = a.edge_reader;
  if (!std::isfinite(a.reach) || a.reach < 0.0)
    throw UsageError("--reach must be a finite weight >= 0, got " + std::to_string(a.reach));
  if (a.reach > 0.0 && a.world == "dream" && a.reward != "poses")
    throw UsageError("--reach in the dream needs --reward poses");
  if (!std::isfinite(a.reach_behind) || a.reach_behind < 0.0)
    throw UsageError("--reach-behind must be a finite distance >= 0 (m), got " +
                     std::to_string(a.reach_behind));
  if (a.reach_behind > 0.0 && a.reach == 0.0) throw UsageError("--reach-behind needs --reach W");
  o.reach = a.reach;
  o.reach_behind = a.reach_behind;
  if (!std::isfinite(a.approach) || a.approach < 0.0)
    throw UsageError("--approach must be a finite distance >= 0 (m), got " +
                     std::to_string(a.approach));
  if (!std::isfinite(a.approach_floor) || a.approach_floor <= 0.0 || a.approach_floor > 1.0)
    throw UsageError("--approach-floor must be a fraction in (0, 1], got " +
                     std::to_string(a.approach_floor));
  if (a.approach > 0.0 && a.world == "dream" && a.reward != "poses")
    throw UsageError(
        "--approach in the dream needs --reward poses (the task's body is read in "
        "the perceived frame)");
  o.approach_radius = a.approach;
  o.approach_floor = a.approach_floor;
  const bool judge_reader = a.judge_rest_tolerance != 0.0 || a.judge_contact_gate != 0.0 ||
                            a.judge_edge_guard || a.judge_edge_reader;
  if (judge_reader && a.judge.empty())
    throw UsageError(
        "--judge-rest-tolerance, --judge-contact-gate, --judge-edge-guard and "
        "--judge-edge-reader need --judge");
  if (judge_reader && a.reward != "poses")
    throw UsageError("the judge's reader flags need --reward poses");
  if (!std::isfinite(a.judge_rest_tolerance) || a.judge_rest_tolerance < 0.0)
    throw UsageError("--judge-rest-tolerance must be a finite number of metres >= 0, got " +
                     std::to_string(a.judge_rest_tolerance));
  if (!std::isfinite(a.judge_contact_gate) || a.judge_contact_gate < 0.0)
    throw UsageError("--judge-contact-gate must be a finite number of metres >= 0, got " +
                     std::to_string(a.judge_contact_gate));
  if (!a.judge_precision.empty() && a.judge.empty())
    throw UsageError("--judge-precision needs --judge");
  o.judge_precision =
      a.judge_precision.empty() ? o.precision : parse_precision(a.judge_precision, a.device);
  o.judge_rest_tolerance = a.judge_rest_tolerance;
  o.judge_contact_gate = a.judge_contact_gate;
  o.judge_edge_guard = a.judge_edge_guard;
  o.judge_edge_reader = a.judge_edge_reader;
  o.verify = a.verify;
  o.world = a.world;
  o.episodes = a.episodes;
  o.seed = a.seed;
  o.replan_every = a.replan_every;
  o.resync_every = a.resync_every;
  o.max_steps = a.max_steps;
  o.threads = worldmodel::init_torch_threads(a.threads);
  o.device = a.device;
  if (a.cuda_graph && (a.device != "cuda" || a.world != "dream"))
    throw UsageError("--cuda-graph needs --device cuda and --world dream");
  o.cuda_graph = a.cuda_graph;
  o.strips = !a.out.empty();
  auto scene = std::make_shared<const sim::SceneModel>(sim::resolve_scene(a.scene));
  if (o.reach > 0.0) {
    try {
      agents::ReachShaping::from_scene(*scene, o.reach, o.reach_behind);
    } catch (const std::invalid_argument& e) {
      throw UsageError(std::string("--reach: ") + e.what());
    }
  }
  if (o.approach_radius > 0.0) {
    try {
      agents::ApproachLimit::from_scene(*scene, o.approach_radius, o.approach_floor);
    } catch (const std::invalid_argument& e) {
      throw UsageError(std::string("--approach: ") + e.what());
    }
  }
  agents::ModelSource src;
  const std::string model_path =
      a.world == "dream" ? agents::planner_checkpoint(*scene, a.model).string() : std::string();
  if (!model_path.empty() && fs::exists(model_path) &&
      worldmodel::checkpoint_family(model_path) == "pose-dynamics") {
    // The dream in pose space (agents/pose_plan_model.hpp).
    if (a.reward != "poses")
      throw UsageError("--model " + model_path +
                       " is a pose-space model (no reward head): it needs --reward poses");
    o.pose_model = agents::PoseDynamics::load(model_path);
    o.pose_reward = true;
    o.proprioception = true;
    src.trained = true;
    src.description = model_path + " (pose-dynamics, " +
                      std::to_string(o.pose_model->parameters()) + " parameters, sha256 " +
                      o.pose_model->sha256().substr(0, 12) + ")";
    // The frame models' options (those loading more models first: they are not loaded here).
    if (!a.ensemble.empty() || !a.judge.empty() || a.value)
      throw UsageError("--ensemble, --judge and --value load world models of frames; " +
                       model_path + " is a pose-space model");
    if (const char* bad = agents::pose_model_refusal(o))
      throw UsageError("the pose-space model " + model_path + " does not take " + bad +
                       " (an option of world models of frames)");
  } else if (a.world == "dream") {
    src = agents::load_model_for_scene(*scene, model_path, a.device, 0);
    if (!src.trained) std::fprintf(stderr, "parallax plan: note: %s\n", src.description.c_str());
    for (const auto& path : a.ensemble)
      o.ensemble.push_back(agents::load_model_for_scene(*scene, path, a.device, 0).model);
    if (!o.ensemble.empty()) o.pessimism = a.pessimism;
    if (!a.judge.empty())
      o.judge = agents::load_model_for_scene(*scene, a.judge, a.device, 0).model;
    o.terminal_value = a.value;
    o.pose_reward = a.reward == "poses";
    if (a.value) {
      const auto check = [&](const worldmodel::WorldModel& m, const std::string& path) {
        if (!(m.info().value_gamma > 0.0))
          throw UsageError("--value: " + path +
                           " has no value head (add one: worldmodel/python/train_value.py)");
      };
      check(*src.model, src.description);
      for (std::size_t i = 0; i < o.ensemble.size(); ++i) check(*o.ensemble[i], a.ensemble[i]);
      const double vg = src.model->info().value_gamma;
      if (std::abs(vg - a.gamma) > 1e-6)
        std::fprintf(stderr,
                     "parallax plan: note: the value head was trained for gamma %g, the plan "
                     "discounts with --gamma %g\n",
                     vg, a.gamma);
    }
  }

  // --record: the episodes as they happened go to a dataset (collect's layout). An existing one
  // is continued: it must hold this run's first episodes (seeds seed, seed + 1, ...), which are
  // skipped, so an interrupted recording resumes where it stopped.
  std::unique_ptr<worldmodel::EpisodeWriter> writer;
  int recorded = 0;
  if (!a.record.empty()) {
    worldmodel::DatasetSpec spec;
    spec.dataset_id = "parallax/" + scene->name + "-plan-" + a.planner + "-" + a.world + "-v0";
    spec.scene_name = scene->name;
    spec.scene_json = scene->source_json;
    spec.height = scene->camera.height;
    spec.width = scene->camera.width;
    spec.action_size = scene->action_size();
    spec.num_bodies = static_cast<int>(scene->bodies.size());
    spec.algorithm_name = "plan-" + a.planner + "-" + a.world;
    const fs::path dir(a.record);
    if (fs::exists(dir / "data" / "metadata.json")) {
      worldmodel::EpisodeReader existing(dir);
      for (int i = 0; i < existing.num_episodes(); ++i)
        if (existing.seed(i) != a.seed + static_cast<std::uint64_t>(i))
          throw UsageError(a.record + ": episode " + std::to_string(i) + " has seed " +
                           std::to_string(existing.seed(i)) + ", not --seed + " +
                           std::to_string(i) + " = " + std::to_string(a.seed + i) +
                           " (a recording continues only the same --seed)");
    }
    writer = std::make_unique<worldmodel::EpisodeWriter>(dir, spec, true);
    recorded = writer->num_episodes();
    if (recorded >= a.episodes) {
      std::fprintf(stderr, "parallax plan: %s already holds %d episodes; nothing to do\n",
                   a.record.c_str(), recorded);
      return;
    }
    o.seed = a.seed + static_cast<std::uint64_t>(recorded);
    o.episodes = a.episodes - recorded;
    o.record = [&](worldmodel::Episode&& e) {
      e.id = writer->num_episodes();
      writer->append(e);
    };
  }

  ProgressLine progress("plan", a.quiet);
  const auto report = agents::run_plan(
      scene, src.model, o, [&](const std::string& s, int d, int t) { progress.update(s, d, t); });
  progress.finish();
  auto j = report.to_json(o, scene->name, src.description);
  if (o.terminal_value) j["value_gamma"] = src.model->info().value_gamma;
  if (a.world == "dream") j["reward"] = a.reward;
  if (o.pose_model)
    j["poses_from"] = "pose-space model (pushed body read in the frames)";
  else if (a.world == "dream" && a.reward == "poses")
    j["poses_from"] = src.model->info().pose_bodies.empty() ? "frames" : "pose head";
  if (o.rest_tolerance > 0.0) j["rest_tolerance_m"] = o.rest_tolerance;
  if (o.contact_gate > 0.0) j["contact_gate_m"] = o.contact_gate;
  if (o.proprioception) j["proprioception"] = true;
  if (o.own_body_frames) j["own_body_frames"] = true;
  if (o.edge_guard) j["edge_guard"] = true;
  if (o.edge_reader) j["edge_reader"] = true;
  if (o.planner.action_limit < 1.0f) j["action_limit"] = a.action_limit;
  if (o.approach_radius > 0.0) {
    j["approach_radius_m"] = o.approach_radius;
    j["approach_floor"] = o.approach_floor;
  }
  if (o.judge) j["judge"]["model"] = a.judge;
  if (!o.ensemble.empty()) {
    j["ensemble"] = a.ensemble;  // the members after --model
    j["pessimism"] = o.pessimism;
  }
  if (!a.out.empty()) {
    const fs::path out(a.out);
    fs::create_directories(out);
    write_text_atomic(out / "plan.json", json_text(j, 1) + "\n");
    if (o.verify) {
      std::string lines;
      for (const auto& d : report.decisions) lines += json_text(d.to_json()) + "\n";
      write_text_atomic(out / "decisions.jsonl", lines);
    }
    // Strip per episode: top row the chosen first plan as imagined, bottom row what happened.
    const int h = report.height, w = report.width;
    for (std::size_t e = 0; e < report.episodes.size(); ++e) {
      const auto& ep = report.episodes[e];
      const int n = ep.strip_frames;
      std::vector<std::uint8_t> img(static_cast<std::size_t>(2) * h * n * w * 3);
      for (int row = 0; row < 2; ++row)
        for (int f = 0; f < n; ++f)
          for (int y = 0; y < h; ++y)
            std::copy_n(ep.strip.data() + ((static_cast<std::size_t>(row) * n + f) * h + y) * w * 3,
                        w * 3,
                        img.data() + ((static_cast<std::size_t>(row) * h + y) * n * w + f * w) * 3);
      char name[64];
      std::snprintf(name, sizeof name, "episode_%03zu.png", e);
      sim::write_png(out / name, n * w, 2 * h, 3, img.data());
    }
  }
  if (a.json_out) {
    std::printf("%s\n", json_text(j).c_str());
  } else {
    std::printf(
        "plan: %s in the %s on '%s', K=%d H=%d iterations=%d: success %.1f%% (%d/%d), "
        "mean return %.3f, decision latency p50 %.1f ms p90 %.1f ms p99 %.1f ms (%zu "
        "decisions)\n",
        a.planner.c_str(), a.world.c_str(), scene->name.c_str(), a.k, a.horizon, a.iterations,
        100.0 * report.success_rate,
        static_cast<int>(std::lround(report.success_rate * report.episodes.size())),
        static_cast<int>(report.episodes.size()), report.mean_return, report.p50_ms, report.p90_ms,
        report.p99_ms, report.latency_ms.size());
    if (a.world == "dream") std::printf("  model: %s\n", src.description.c_str());
    if (o.judge)
      std::printf(
          "  judge: %s picked among %d finalists; it overrode the model's best in %d of "
          "%zu decisions\n",
          a.judge.c_str(), a.finalists, report.judge_overrides, report.latency_ms.size());
    if (o.verify) {
      const auto& v = j["verify"];
      const auto num = [](const nlohmann::json& x) {
        return x.is_number() ? x.get<double>() : std::nan("");
      };
      std::printf(
          "  verify (Bullet judges each decision's last %d candidates from the true state): the "
          "pick is Bullet's best in %.1f%% (chance %.1f%%), normalised regret %.3f, Spearman "
          "%.2f; imagined - true return of the chosen plan %+.3f; it succeeds within H in "
          "%.1f%%, some candidate does in %.1f%% (missed %.1f%%)\n",
          a.k, 100 * num(v["top1_agreement"]), 100 * num(v["chance_top1"]),
          num(v["normalised_regret"]), num(v["spearman"]), num(v["optimism"]),
          100 * num(v["chosen_success_rate"]), 100 * num(v["solvable_rate"]),
          100 * num(v["missed_rate"]));
    }
    if (!a.out.empty())
      std::printf("  wrote %s (plan.json, episode_*.png%s)\n", a.out.c_str(),
                  o.verify ? ", decisions.jsonl" : "");
    if (writer)
      std::printf("  recorded %d episodes in %s (%d in all%s)\n", writer->num_episodes() - recorded,
                  a.record.c_str(), writer->num_episodes(), recorded > 0 ? ", continued" : "");
  }
}

}  // namespace

void register_plan(CLI::App& app) {
  auto a = std::make_shared<PlanArgs>();
  auto* sub = app.add_subcommand(
      "plan",
      "Plan with shooting, CEM or MPPI in the dream or in Bullet (the oracle); Bullet judges");
  sub->add_option("--scene", a->scene, "Shipped scene name or path to a scene .json")
      ->capture_default_str();
  sub->add_option("--model", a->model,
                  "Checkpoint: a world model, or a pose-space model (family pose-dynamics, e.g. "
                  "assets/models/push-poses.pt; needs --reward poses). Default: "
                  "assets/models/<scene>-latent.pt if shipped, else <scene>.pt")
      ->check(CLI::ExistingFile);
  sub->add_option("--planner", a->planner, "shooting | cem | mppi")->capture_default_str();
  sub->add_option("--world", a->world, "The planner's model: dream | bullet")
      ->capture_default_str();
  sub->add_option("--k", a->k, "Candidate plans per iteration (K)")->capture_default_str();
  sub->add_option("--horizon", a->horizon, "Steps per plan (H)")->capture_default_str();
  sub->add_option("--iterations", a->iterations, "CEM / MPPI iterations per decision")
      ->capture_default_str();
  sub->add_option("--elites", a->elites, "CEM elites")->capture_default_str();
  sub->add_option("--action-limit", a->action_limit,
                  "Every planned action in [-L, L] (0 < L <= 1; the actuator's range is 1)")
      ->capture_default_str();
  sub->add_option("--temperature", a->temperature,
                  "MPPI temperature (relative to the spread of returns)")
      ->capture_default_str();
  sub->add_option("--ensemble", a->ensemble,
                  "Dream: more checkpoints that imagine every plan too (comma-separated); a "
                  "plan scores mean - pessimism x std of the members' returns")
      ->delimiter(',')
      ->check(CLI::ExistingFile);
  sub->add_flag("--cuda-graph", a->cuda_graph,
                "Dream on CUDA: replay captured CUDA graphs for the batched ticks (the report's "
                "cuda_graph says whether they were in use)");
  sub->add_option("--judge", a->judge,
                  "Dream: a second checkpoint decides among the planner's --finalists best plans "
                  "(scored from the same perceived frames; shooting and cem): e.g. the fast latent "
                  "model searches and the unet picks")
      ->check(CLI::ExistingFile);
  sub->add_option("--finalists", a->finalists,
                  "With --judge: the planner's best distinct plans (over all iterations) it scores")
      ->capture_default_str();
  sub->add_option("--judge-rest-tolerance", a->judge_rest_tolerance,
                  "With --judge: its --rest-tolerance")
      ->capture_default_str();
  sub->add_option("--judge-contact-gate", a->judge_contact_gate, "With --judge: its --contact-gate")
      ->capture_default_str();
  sub->add_option("--finalist-distance", a->finalist_distance,
                  "With --judge: finalists at least this far apart (RMS over their actions, "
                  "[0, 2]; 0: only no two equal)")
      ->capture_default_str();
  sub->add_option("--judge-horizon", a->judge_horizon,
                  "With --judge: it scores the first N steps of each finalist (0: the --horizon)")
      ->capture_default_str();
  sub->add_option("--judge-precision", a->judge_precision,
                  "With --judge: its inference precision (default: --precision's)");
  sub->add_flag("--judge-edge-guard", a->judge_edge_guard, "With --judge: its --edge-guard");
  sub->add_flag("--judge-edge-reader", a->judge_edge_reader, "With --judge: its --edge-reader");
  sub->add_option("--pessimism", a->pessimism,
                  "With --ensemble: weight of the members' disagreement (std of returns)")
      ->capture_default_str();
  sub->add_option("--gamma", a->gamma, "Discount per step")->capture_default_str();
  sub->add_flag("--value", a->value,
                "Dream: a plan also scores gamma^H x the model's value of where it ends (the "
                "checkpoint's value head)");
  sub->add_option("--reward", a->reward,
                  "Dream: head (the model's reward head) | poses (the scene's reward terms on the "
                  "model's predicted body positions: its pose head's, or for a model without "
                  "one the bodies found in its imagined frames; the goal is given)")
      ->capture_default_str();
  sub->add_option("--rest-tolerance", a->rest_tolerance,
                  "Dream, --reward poses: a body read within this many metres of where the "
                  "observed frame (or a pose head, the root state) shows it rests there (0 = off)")
      ->capture_default_str();
  sub->add_flag("--verify", a->verify,
                "At each decision Bullet also scores the last iteration's K candidates and the "
                "chosen plan from the true state: how well the planner's model ranked them "
                "(the report's \"verify\"; with --out, decisions.jsonl)");
  sub->add_option("--contact-gate", a->contact_gate,
                  "Dream, --reward poses: a body the actions do not drive rests where the "
                  "observed frame (or a pose head, the root state) shows it until a driven body "
                  "comes within this many metres of it (0 = off)")
      ->capture_default_str();
  sub->add_flag("--proprioception", a->proprioception,
                "Dream, --reward poses: the bodies the actions move kinematically (push's "
                "pusher) are the agent's own: told where they stand at each decision, moved by "
                "each plan's actions, not read from imagined frames or the pose head");
  sub->add_flag("--own-body-frames", a->own_body_frames,
                "Dream, with --proprioception: each imagined frame is repainted with the own "
                "bodies where the plan has taken them, and the model goes on from it");
  sub->add_flag("--edge-guard", a->edge_guard,
                "Dream, --reward poses from frames: no imagined success in a step where a body "
                "the actions do not drive is unseen or cut by the frame's border");
  sub->add_flag("--edge-reader", a->edge_reader,
                "Dream, --reward poses from frames: read a body the frame's border cuts where it "
                "is (fits calibrated on cut renders), not inward");
  sub->add_option("--reach", a->reach,
                  "Reach shaping, either world: the planner also scores -W x the x, y distance "
                  "from the body the actions drive to the body the task moves (push: pusher to "
                  "cube) per step; Bullet still judges with the scene's reward (0 = off; the "
                  "dream needs --reward poses)")
      ->capture_default_str();
  sub->add_option("--reach-behind", a->reach_behind,
                  "Reach shaping: the point to reach lies D m behind the task's body on the line "
                  "from its goal (push: where the expert stands to push the cube onto the goal; "
                  "0 = the body's centre)")
      ->capture_default_str();
  sub->add_option("--approach", a->approach,
                  "Approach limit, either world: at each decision the action limit is scaled by "
                  "clamp(d / R, --approach-floor, 1), d the task's body-goal distance as the "
                  "planner perceives it (push: slow pushes near the goal; 0 = off; the dream "
                  "needs --reward poses)")
      ->capture_default_str();
  sub->add_option("--approach-floor", a->approach_floor,
                  "Approach limit: the fraction of the action limit kept at the goal, (0, 1]")
      ->capture_default_str();
  sub->add_option("--episodes", a->episodes, "Episodes (E)")->capture_default_str();
  sub->add_option("--seed", a->seed, "Bullet seed of episode 0 (episode e: seed + e)")
      ->capture_default_str();
  sub->add_option("--planner-seed", a->planner_seed, "Seed of the planner's sampling")
      ->capture_default_str();
  sub->add_option("--replan-every", a->replan_every, "Ticks between decisions (MPC)")
      ->capture_default_str();
  sub->add_option("--resync-every", a->resync_every,
                  "Dream: ticks between true observations (0 = dream after the first frame)")
      ->capture_default_str();
  sub->add_option("--max-steps", a->max_steps, "Ticks per episode (0 = the scene's)")
      ->capture_default_str();
  sub->add_option("--threads", a->threads, "Threads (0 = all cores)")
      ->check(threads_check())
      ->capture_default_str();
  sub->add_option("--device", a->device, "cpu | cuda")->capture_default_str();
  add_precision_option(sub, a->precision);
  sub->add_option("--out", a->out, "Folder for plan.json and a strip PNG per episode");
  sub->add_option("--record", a->record,
                  "Dataset folder for the episodes as they happened in Bullet (collect's layout; "
                  "an existing one is continued)");
  sub->add_flag("--json", a->json_out, "Print the report as JSON on stdout");
  sub->add_flag("--quiet", a->quiet, "No progress line");
  sub->callback([a] { run(*a); });
}

}  // namespace parallax::cli
