// parallax evaluate: policy evaluation in the model. Each policy's return in Bullet and as the
// world model predicts it (its actions replayed open loop in the dream), with correlation and
// whether the ranking of the policies is preserved (agents/dream_agents.hpp).
#include <torch/torch.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "commands.hpp"
#include "common.hpp"
#include "flag_checks.hpp"
#include "parallax/agents/dream_agents.hpp"
#include "parallax/agents/model_source.hpp"
#include "parallax/agents/policy.hpp"
#include "parallax/agents/pose_dynamics.hpp"
#include "parallax/worldmodel/model_file.hpp"
#include "parallax/worldmodel/torch_setup.hpp"
#include "precision_flag.hpp"

namespace parallax::cli {
namespace {

struct EvaluateArgs {
  std::string scene = "push", model, policies, device = "cpu", out, reward = "head",
              precision = "f32", planner_model;
  int episodes = 8, max_steps = 0, threads = 0;
  std::uint64_t seed = 2000000000ull;  // disjoint from training collections (below 1,000,000)
  bool json_out = false, quiet = false;
};

void run(const EvaluateArgs& a) {
  if (a.episodes < 1 || a.episodes > 10000)
    throw UsageError("--episodes must be in [1, 10000], got " + std::to_string(a.episodes));
  if (a.max_steps < 0) throw UsageError("--max-steps must be >= 0");
  check_device(a.device);
  if (a.reward != "head" && a.reward != "poses")
    throw UsageError("--reward must be head or poses, got '" + a.reward + "'");
  auto scene = std::make_shared<const sim::SceneModel>(sim::resolve_scene(a.scene));
  agents::PolicyEvalOptions o;
  if (!a.policies.empty()) {
    std::stringstream ss(a.policies);
    const auto kinds = agents::all_policy_kinds(*scene);
    for (std::string p; std::getline(ss, p, ',');) {
      if (p != "planner" && std::find(kinds.begin(), kinds.end(), p) == kinds.end())
        throw UsageError("--policies: '" + p + "' is not a policy of scene '" + scene->name + "'");
      o.policies.push_back(p);
    }
  }
  o.episodes = a.episodes;
  o.seed = a.seed;
  o.max_steps = a.max_steps;
  o.device = a.device;
  o.pose_reward = a.reward == "poses";
  o.precision = parse_precision(a.precision, a.device);
  worldmodel::init_torch_threads(a.threads);
  const bool planning =
      std::find(o.policies.begin(), o.policies.end(), "planner") != o.policies.end();
  if (!a.planner_model.empty() && !planning)
    throw UsageError("--planner-model needs the policy planner in --policies");
  std::string planner_path = a.planner_model;
  if (planning) {
    // The fast planner of the README (PlannerPolicy): the scene's pose-space model with
    // pose_planner_options(), else its pose-head latent with fast_planner_options().
    if (planner_path.empty()) {
      planner_path = agents::default_planner_model(*scene).string();
      if (planner_path.empty())
        throw UsageError("--policies planner: scene '" + scene->name + "' ships no " + scene->name +
                         "-poses.pt or " + scene->name + "-latent-poses.pt; give --planner-model");
    }
    if (worldmodel::checkpoint_family(planner_path) == "pose-dynamics") {
      o.planner_pose_model = agents::PoseDynamics::load(planner_path);
      o.planner = agents::pose_planner_options();
    } else {
      o.planner_model = agents::load_model_for_scene(*scene, planner_path, a.device, 0).model;
    }
    o.planner.device = a.device;
  }
  const auto src = agents::load_model_for_scene(*scene, a.model, a.device, 0);
  if (!src.trained) std::fprintf(stderr, "parallax evaluate: note: %s\n", src.description.c_str());
  ProgressLine progress("evaluate", a.quiet);
  auto report = agents::evaluate_policies(
      scene, src.model, o, [&](const std::string& s, int d, int t) { progress.update(s, d, t); });
  progress.finish();
  report["model"] = src.description;
  if (planning) report["planner_model"] = planner_path;
  if (!a.out.empty()) {
    std::filesystem::create_directories(a.out);
    write_text_atomic(std::filesystem::path(a.out) / "evaluate.json", json_text(report, 1) + "\n");
  }
  if (a.json_out) {
    std::printf("%s\n", json_text(report).c_str());
    return;
  }
  std::printf("evaluate: '%s', %d episodes per policy, model %s, dream reward: %s\n",
              scene->name.c_str(), a.episodes, src.description.c_str(),
              o.pose_reward ? "the scene's, on the predicted poses" : "the reward head");
  std::printf("  %-10s %14s %14s\n", "policy", "return bullet", "return dream");
  for (const auto& p : report["policies"])
    std::printf("  %-10s %14.3f %14.3f\n", p["policy"].get<std::string>().c_str(),
                p["return_bullet"].get<double>(), p["return_dream"].get<double>());
  auto num = [](const nlohmann::json& v) { return v.is_null() ? std::nan("") : v.get<double>(); };
  std::printf("  per episode: pearson %.3f, spearman %.3f; policy ranking %s\n",
              num(report["pearson"]), num(report["spearman"]),
              report["ranking_preserved"].get<bool>() ? "preserved" : "NOT preserved");
}

}  // namespace

void register_evaluate(CLI::App& app) {
  auto a = std::make_shared<EvaluateArgs>();
  auto* sub = app.add_subcommand(
      "evaluate", "Each policy's return in Bullet and as the world model predicts it");
  sub->add_option("--scene", a->scene, "Shipped scene name or path to a scene .json")
      ->capture_default_str();
  sub->add_option("--model", a->model, "Checkpoint (default: assets/models/<scene>.pt)")
      ->check(CLI::ExistingFile);
  sub->add_option("--policies", a->policies,
                  "Comma-separated policies (default: all of the scene's reference policies; also "
                  "planner: CEM in the dream on the frames it sees)");
  sub->add_option("--planner-model", a->planner_model,
                  "The policy planner's model (the README's fast dream planner; default: "
                  "assets/models/<scene>-latent-poses.pt)")
      ->check(CLI::ExistingFile);
  sub->add_option("--episodes", a->episodes, "Episodes per policy")->capture_default_str();
  sub->add_option("--max-steps", a->max_steps, "Ticks per episode (0 = the scene's)")
      ->capture_default_str();
  sub->add_option("--seed", a->seed, "Base Bullet seed (policy p, episode e: seed + p*100000 + e)")
      ->capture_default_str();
  sub->add_option("--reward", a->reward,
                  "Dream: head (the model's reward head) | poses (the scene's reward terms on the "
                  "model's predicted body positions: its pose head's, or found in its imagined "
                  "frames)")
      ->capture_default_str();
  sub->add_option("--threads", a->threads, "Threads (0 = all cores)")
      ->check(threads_check())
      ->capture_default_str();
  sub->add_option("--device", a->device, "cpu | cuda")->capture_default_str();
  add_precision_option(sub, a->precision);
  sub->add_option("--out", a->out, "Folder for evaluate.json");
  sub->add_flag("--json", a->json_out, "Print the report as JSON on stdout");
  sub->add_flag("--quiet", a->quiet, "No progress line");
  sub->callback([a] { run(*a); });
}

}  // namespace parallax::cli
