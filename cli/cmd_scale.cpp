// parallax scale: the search-scaling curves (best-of-K with the dream or Bullet as the verifier,
// pass@K in Bullet) against K; writes scale.json, scale.md and scale.png (agents/scale.hpp).
#include <torch/torch.h>

#include <cstdio>
#include <filesystem>

#include "commands.hpp"
#include "common.hpp"
#include "parallax/agents/model_source.hpp"
#include "parallax/agents/pose_dynamics.hpp"
#include "parallax/agents/scale.hpp"
#include "parallax/worldmodel/model_file.hpp"
#include "parallax/worldmodel/torch_setup.hpp"
#include "precision_flag.hpp"

namespace parallax::cli {
namespace {

namespace fs = std::filesystem;

struct ScaleArgs {
  std::string scene = "push", model, ks = "1,2,4,...,1024", out, device = "cpu";
  int decisions = 8, horizon = 10, lead = 8, batch = 256, threads = 0;
  std::string reward = "head", precision = "f32";
  std::uint64_t seed = 0;
  bool json_out = false, quiet = false;
};

void run(const ScaleArgs& a) {
  agents::ScaleOptions o;
  try {
    o.ks = agents::parse_k_list(a.ks);
  } catch (const std::invalid_argument& e) {
    throw UsageError(std::string("--k: ") + e.what());
  }
  o.decisions = a.decisions, o.horizon = a.horizon, o.lead = a.lead, o.batch = a.batch;
  if (a.reward != "head" && a.reward != "poses")
    throw UsageError("--reward must be head or poses, got '" + a.reward + "'");
  o.pose_reward = a.reward == "poses";
  check_device(a.device);
  o.precision = parse_precision(a.precision, a.device);
  o.seed = a.seed, o.device = a.device;
  try {
    agents::validate(o);
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
  const fs::path out(a.out);
  if (fs::exists(out) && !fs::is_directory(out))
    throw UsageError("--out: '" + a.out + "' exists and is not a folder");
  o.threads = worldmodel::init_torch_threads(a.threads);
  auto scene = std::make_shared<const sim::SceneModel>(sim::resolve_scene(a.scene));
  const std::string model_path = agents::planner_checkpoint(*scene, a.model).string();
  agents::ModelSource src;
  if (!model_path.empty() && fs::exists(model_path) &&
      worldmodel::checkpoint_family(model_path) == "pose-dynamics") {
    // The dream in pose space (agents/pose_plan_model.hpp): its reward is the scene's on poses.
    if (a.precision != "f32")
      throw UsageError("--precision " + a.precision + ": the pose-space model " + model_path +
                       " runs in f32 only");
    o.pose_model = agents::PoseDynamics::load(model_path);
    o.pose_reward = true;
    src.trained = true;
    src.description = model_path + " (pose-dynamics, " +
                      std::to_string(o.pose_model->parameters()) + " parameters)";
  } else {
    src = agents::load_model_for_scene(*scene, model_path, a.device, 0);
  }
  if (!src.trained) std::fprintf(stderr, "parallax scale: note: %s\n", src.description.c_str());

  ProgressLine progress("scale", a.quiet);
  const auto report = agents::run_scale(
      scene, src.model, o, [&](const std::string& s, int d, int t) { progress.update(s, d, t); });
  progress.finish();
  const auto j = report.to_json(o, scene->name, src.description);
  fs::create_directories(out);
  report.chart().write_png(out / "scale.png");  // atomic, as the texts
  write_text_atomic(out / "scale.md", report.markdown(o, scene->name, src.description));
  write_text_atomic(out / "scale.json", j.dump(1) + "\n");
  if (a.json_out) {
    std::printf("%s\n", j.dump().c_str());
    return;
  }
  for (const auto& p : report.curve)
    std::printf(
        "scale: K=%5d  (a) dream picks %5.1f%%  (b) pass@K %5.1f%%  (c) Bullet picks %5.1f%%\n",
        p.k, 100 * p.a, 100 * p.b, 100 * p.c);
  std::printf("  (a) is highest at K=%d; wrote %s (scale.json, scale.md, scale.png)\n",
              report.k_peak_a, a.out.c_str());
}

}  // namespace

void register_scale(CLI::App& app) {
  auto a = std::make_shared<ScaleArgs>();
  auto* sub = app.add_subcommand(
      "scale", "Search-scaling curves: best-of-K (dream or Bullet verifier) and pass@K against K");
  sub->add_option("--scene", a->scene, "Shipped scene name or path to a scene .json")
      ->capture_default_str();
  sub->add_option(
         "--model", a->model,
         "Checkpoint (default: assets/models/<scene>-latent.pt if shipped, else <scene>.pt)")
      ->check(CLI::ExistingFile);
  sub->add_option("--k", a->ks, "K values, ascending ('...' continues the ratio)")
      ->capture_default_str();
  sub->add_option("--decisions", a->decisions, "Decision states (from expert episodes)")
      ->capture_default_str();
  sub->add_option("--horizon", a->horizon, "Ticks per candidate plan (H)")->capture_default_str();
  sub->add_option("--lead", a->lead, "Decision state: the expert's ticks to success (<= H)")
      ->capture_default_str();
  sub->add_option("--seed", a->seed, "First expert episode seed; also the candidates' seed")
      ->capture_default_str();
  sub->add_option("--batch", a->batch, "Dream slots scored at once")->capture_default_str();
  sub->add_option("--reward", a->reward,
                  "Dream: head (the model's reward head) | poses (the scene's reward terms on the "
                  "model's predicted body positions: its pose head's, or found in its imagined "
                  "frames)")
      ->capture_default_str();
  sub->add_option("--threads", a->threads, "Threads (0 = all cores)")->capture_default_str();
  sub->add_option("--device", a->device, "cpu | cuda")->capture_default_str();
  add_precision_option(sub, a->precision);
  sub->add_option("--out", a->out, "Folder for scale.json, scale.md, scale.png")->required();
  sub->add_flag("--json", a->json_out, "Print the report as JSON on stdout");
  sub->add_flag("--quiet", a->quiet, "No progress line");
  sub->callback([a] { run(*a); });
}

}  // namespace parallax::cli
