// parallax fidelity: the regression gate of a world model against Bullet (agents/fidelity.hpp).
// Exit codes: 0 pass, 1 bad file or data, 2 bad flag, 3 a metric regressed beyond its baseline
// tolerance, 4 the model does not beat the --require-beats predictor at some horizon.
#include <torch/torch.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "commands.hpp"
#include "common.hpp"
#include "flag_checks.hpp"
#include "parallax/agents/fidelity.hpp"
#include "parallax/agents/fidelity_plots.hpp"
#include "parallax/agents/model_source.hpp"
#include "parallax/agents/policy.hpp"
#include "parallax/worldmodel/torch_setup.hpp"
#include "precision_flag.hpp"

namespace parallax::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct FidelityArgs {
  std::string scene = "push";
  std::string model;
  std::string policies;  // comma-separated; "" = every kind of the scene
  int episodes = 8;      // per policy
  int horizon = 30;
  std::uint64_t seed = agents::kFidelitySeedBase;
  int threads = 0;
  std::string device = "cpu";
  bool quick = false;
  int decisions = 1, candidates = 8, plan_steps = 15;
  std::string decision_reward = "head";
  std::string precision = "f32";
  double perturb_mm = 1.0, perturb_deg = 0.5, motion_threshold = 0.1;
  std::string out = "runs/fidelity";
  std::string baseline, write_baseline, require_beats;
  std::string data;  // a recorded dataset instead of generated episodes
  int data_start = 0;
  bool json_out = false, quiet = false;
  bool episodes_given = false, seed_given = false;
};

json read_json_file(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(std::string(what) + " '" + path + "' cannot be read");
  std::stringstream ss;
  ss << in.rdbuf();
  try {
    return json::parse(ss.str());
  } catch (const json::exception& e) {
    throw std::runtime_error(std::string(what) + " '" + path + "' is not JSON: " + e.what());
  }
}

void run(FidelityArgs a) {
  if (a.quick) a.episodes = std::min(a.episodes, 2);
  if (a.episodes < 1 || a.episodes > 1000)
    throw UsageError("--episodes must be in [1, 1000], got " + std::to_string(a.episodes));
  if (a.horizon < 1 || a.horizon > 1000)
    throw UsageError("--horizon must be in [1, 1000], got " + std::to_string(a.horizon));
  check_device(a.device);
  if (a.decision_reward != "head" && a.decision_reward != "poses")
    throw UsageError("--decision-reward must be head or poses, got '" + a.decision_reward + "'");
  if (!a.require_beats.empty() && a.require_beats != "nothing-moves" &&
      a.require_beats != "physical-variance")
    throw UsageError(
        "--require-beats must be nothing-moves or physical-variance (the predictors "
        "of frames), got '" +
        a.require_beats + "'");
  const worldmodel::Precision precision = parse_precision(a.precision, a.device);
  if (a.candidates < 2 || a.candidates > 4096)
    throw UsageError("--candidates must be in [2, 4096], got " + std::to_string(a.candidates));
  if (!(a.perturb_mm >= 0 && a.perturb_mm <= 100 && a.perturb_deg >= 0 && a.perturb_deg <= 45))
    throw UsageError("--perturb-mm must be in [0, 100] and --perturb-deg in [0, 45]");
  if (!a.data.empty()) {
    if (!a.policies.empty() || a.seed_given)
      throw UsageError(
          "--data: the episodes are the dataset's; --policies and --seed do not apply");
    if (!a.baseline.empty() || !a.write_baseline.empty())
      throw UsageError(
          "--data: baselines gate generated evaluation sets; --baseline and --write-baseline do "
          "not apply");
  }
  worldmodel::init_torch_threads(a.threads);
  auto scene = std::make_shared<const sim::SceneModel>(sim::resolve_scene(a.scene));
  agents::FidelityOptions o;
  if (a.data_start < 0 || a.data_start > 100000)
    throw UsageError("--data-start must be in [0, 100000], got " + std::to_string(a.data_start));
  if (a.data_start > 0 && a.data.empty()) throw UsageError("--data-start needs --data");
  o.data = a.data;
  o.data_start = a.data_start;
  o.data_episodes = a.data.empty() || !(a.episodes_given || a.quick) ? 0 : a.episodes;
  if (!a.policies.empty()) {
    std::stringstream ss(a.policies);
    for (std::string p; std::getline(ss, p, ',');) o.eval.policies.push_back(p);
    const auto kinds = agents::all_policy_kinds(*scene);
    for (const auto& p : o.eval.policies)
      if (std::find(kinds.begin(), kinds.end(), p) == kinds.end())
        throw UsageError("--policies: '" + p + "' is not a policy of scene '" + scene->name + "'");
  }
  o.eval.episodes_per_policy = a.episodes;
  o.eval.seed = a.seed;
  o.eval.threads = a.threads;
  o.eval.perturb_position_m = static_cast<float>(a.perturb_mm / 1000.0);
  o.eval.perturb_yaw_deg = static_cast<float>(a.perturb_deg);
  o.horizon = a.horizon;
  o.device = a.device;
  o.motion_threshold = static_cast<float>(a.motion_threshold);
  o.decisions = a.decisions;
  o.candidates = a.candidates;
  o.plan_steps = a.plan_steps;
  o.decision_reward = a.decision_reward;
  o.precision = precision;
  const auto src = agents::load_model_for_scene(*scene, a.model, a.device, 0);
  if (!src.trained) std::fprintf(stderr, "parallax fidelity: note: %s\n", src.description.c_str());
  o.model_description = src.description;
  o.model_sha256 = src.sha256;
  const fs::path out(a.out);
  fs::create_directories(out);
  o.strip_dir = out.string();
  // Read the baseline before the run: a bad file fails in a second, not after the evaluation.
  json baseline;
  if (!a.baseline.empty()) baseline = read_json_file(a.baseline, "baseline");

  ProgressLine progress("fidelity", a.quiet);
  const json report = agents::run_fidelity(
      scene, src.model, o, [&](const std::string& s, int d, int t) { progress.update(s, d, t); });
  progress.finish();

  write_text_atomic(out / "report.json", json_text(report, 1) + "\n");
  write_text_atomic(out / "report.md", agents::fidelity_markdown(report));
  agents::write_fidelity_plots(report, out);
  if (!a.write_baseline.empty()) {
    json existing;
    if (fs::exists(a.write_baseline)) existing = read_json_file(a.write_baseline, "baseline");
    write_text_atomic(
        a.write_baseline,
        json_text(agents::merge_baseline(existing, agents::make_baseline(report)), 1) + "\n");
  }

  // Gates.
  std::vector<agents::GateFinding> regressed;
  if (!a.baseline.empty()) regressed = agents::compare_with_baseline(report, baseline, a.baseline);
  std::vector<int> not_beating;
  if (!a.require_beats.empty()) not_beating = agents::horizons_not_beating(report, a.require_beats);

  const json& ol = report["open_loop"];
  if (a.json_out) {
    json findings = json::array();
    for (const auto& f : regressed)
      findings.push_back({{"metric", f.metric},
                          {"baseline", f.baseline},
                          {"now", f.now},
                          {"tolerance", f.tolerance}});
    std::printf("%s\n", json_text(json{{"report", (out / "report.json").string()},
                                       {"psnr_db",
                                        {{"model", ol["model"]["psnr_db"]},
                                         {"nothing-moves", ol["nothing-moves"]["psnr_db"]}}},
                                       {"regressed", findings},
                                       {"not_beating", not_beating}})
                            .c_str());
  } else {
    std::printf(
        "fidelity: %s on '%s', %d episodes, open loop PSNR [dB] model / nothing moves / "
        "physical variance:\n",
        src.description.c_str(), scene->name.c_str(), report["eval"]["episodes"].get<int>());
    auto f = [](const json& v) {
      return v.is_null()
                 ? std::string("inf")
                 : (std::ostringstream() << std::fixed << std::setprecision(2) << v.get<double>())
                       .str();
    };
    for (const auto& h : report["horizons"]) {
      const std::string t = "t+" + std::to_string(h.get<int>());
      if (!ol["model"]["psnr_db"].contains(t)) continue;
      std::printf("  %-5s %7s %7s %7s\n", t.c_str(), f(ol["model"]["psnr_db"][t]).c_str(),
                  f(ol["nothing-moves"]["psnr_db"][t]).c_str(),
                  f(ol["physical-variance"]["psnr_db"][t]).c_str());
    }
    std::printf("  wrote %s (report.json, report.md, plots)\n", out.c_str());
  }
  for (const auto& g : regressed)
    std::fprintf(stderr, "parallax fidelity: regressed: %s baseline %.4g now %.4g tolerance %.4g\n",
                 g.metric.c_str(), g.baseline, g.now, g.tolerance);
  if (!regressed.empty()) throw ExitCode(3);
  if (!not_beating.empty()) {
    std::string hs;
    for (int h : not_beating) hs += (hs.empty() ? "" : ", ") + ("t+" + std::to_string(h));
    std::fprintf(stderr, "parallax fidelity: the model does not beat %s at %s\n",
                 a.require_beats.c_str(), hs.c_str());
    throw ExitCode(4);
  }
}

}  // namespace

void register_fidelity(CLI::App& app) {
  auto a = std::make_shared<FidelityArgs>();
  auto* sub = app.add_subcommand(
      "fidelity", "Measure a world model against Bullet next to trivial predictors; gate it");
  sub->add_option("--scene", a->scene, "Shipped scene name or path to a scene .json")
      ->capture_default_str();
  sub->add_option("--model", a->model, "Checkpoint (default: assets/models/<scene>.pt)")
      ->check(CLI::ExistingFile);
  sub->add_option("--policies", a->policies,
                  "Comma-separated policies of the evaluation set (default: all of the scene)");
  sub->add_option("--episodes", a->episodes, "Episodes per policy (with --data: the first N)")
      ->capture_default_str();
  sub->add_option("--data", a->data,
                  "Evaluate on a recorded dataset's episodes (collect, plan --record; their first "
                  "steps, replayed in Bullet) instead of generated ones")
      ->check(CLI::ExistingDirectory);
  sub->add_option("--data-start", a->data_start,
                  "With --data: each episode's window starts at this step (shorter episodes are "
                  "skipped)")
      ->capture_default_str();
  sub->add_option("--horizon", a->horizon, "Open-loop steps H")->capture_default_str();
  sub->add_option("--seed", a->seed, "Base seed of the evaluation set (disjoint from training)")
      ->check(seed_check())
      ->capture_default_str();
  sub->add_option("--threads", a->threads, "Threads (0 = all cores)")
      ->check(threads_check())
      ->capture_default_str();
  sub->add_option("--device", a->device, "cpu | cuda")->capture_default_str();
  sub->add_flag("--quick", a->quick, "At most 2 episodes per policy (the CI gate)");
  sub->add_option("--decisions", a->decisions, "Decision points per episode (0 = none)")
      ->capture_default_str();
  sub->add_option("--candidates", a->candidates, "Candidate plans per decision (K)")
      ->capture_default_str();
  sub->add_option("--plan-steps", a->plan_steps, "Steps of each candidate plan")
      ->capture_default_str();
  sub->add_option("--decision-reward", a->decision_reward,
                  "How the dream scores a plan: head (the model's reward head) | poses (the "
                  "scene's reward on the predicted body positions: a pose head's, or found in "
                  "the predicted frames)")
      ->capture_default_str();
  add_precision_option(sub, a->precision);
  sub->add_option("--perturb-mm", a->perturb_mm, "Physical variance: start shift [mm]")
      ->capture_default_str();
  sub->add_option("--perturb-deg", a->perturb_deg, "Physical variance: start turn [deg]")
      ->capture_default_str();
  sub->add_option("--motion-threshold", a->motion_threshold,
                  "Motion mask: channel change in [0, 1] above which a pixel moves")
      ->capture_default_str();
  sub->add_option("--out", a->out, "Output folder")->capture_default_str();
  sub->add_option("--baseline", a->baseline,
                  "Gate: baseline file; exit 3 when a metric regressed beyond its tolerance");
  sub->add_option("--write-baseline", a->write_baseline,
                  "Write (or update) a baseline file with this run's figures");
  sub->add_option("--require-beats", a->require_beats,
                  "Gate: exit 4 unless the model beats this predictor (nothing-moves or "
                  "physical-variance) at every "
                  "horizon");
  sub->add_flag("--json", a->json_out, "Print a JSON summary on stdout");
  sub->add_flag("--quiet", a->quiet, "No progress line");
  sub->callback([a, sub] {
    a->episodes_given = sub->count("--episodes") > 0;
    a->seed_given = sub->count("--seed") > 0;
    run(*a);
  });
}

}  // namespace parallax::cli
