// bench_pose_planner: the pose-space planner's decision time (agents/pose_plan_model.hpp). For
// each K, CEM decisions (horizon H, `iterations` refinements) as `parallax plan` makes them with a
// pose-dynamics model: the root read in the last two perceived frames (the cube's x, y by the
// colour finder, its yaw by render and compare: PosePlanModel::set_root) and the K plans
// imagined with the learned dynamics and scored with push's reward and the README's reach shaping
// (1.0, 0.08 m behind the cube); the same decisions with Bullet as the model (the oracle, restored
// from the exact saved state) are the baseline in the same run. One JSON line per K: ms per
// decision (root reading included, and alone), imagined steps/s, decisions/s, and the ratio to
// the oracle.
//
//   bench_pose_planner MODEL.pt [--k 64,256,1024] [--horizon 15] [--iterations 4]
//                      [--decisions 20] [--threads 1] [--seed 5000]
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "guarded_main.hpp"
#include "parallax/agents/planner.hpp"
#include "parallax/agents/pose_plan_model.hpp"
#include "parallax/agents/reach_shaping.hpp"
#include "parallax/sim/render_inputs.hpp"
#include "parallax/sim/renderer.hpp"
#include "parallax/sim/world.hpp"
#include "parallax/worldmodel/torch_setup.hpp"

namespace ag = parallax::agents;
namespace sim = parallax::sim;
namespace wm = parallax::worldmodel;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

int run(int argc, char** argv) {
  if (argc < 2 || std::string(argv[1]).rfind("--", 0) == 0) {
    std::fprintf(stderr,
                 "usage: bench_pose_planner MODEL.pt [--k 64,256,1024] [--horizon 15] "
                 "[--iterations 4] [--decisions 20] [--threads 1] [--seed 5000]\n");
    return 2;
  }
  const std::string model_path = argv[1];
  std::vector<int> ks = {64, 256, 1024};
  int horizon = 15, iterations = 4, decisions = 20, threads = 1;
  std::uint64_t seed = 5000;
  for (int i = 2; i < argc; i += 2) {
    const std::string k = argv[i];
    if (i + 1 >= argc) {
      std::fprintf(stderr, "bench_pose_planner: %s needs a value\n", k.c_str());
      return 2;
    }
    const std::string v = argv[i + 1];
    if (k == "--k") {
      ks.clear();
      std::stringstream ss(v);
      for (std::string x; std::getline(ss, x, ',');) ks.push_back(std::stoi(x));
    } else if (k == "--horizon") {
      horizon = std::stoi(v);
    } else if (k == "--iterations") {
      iterations = std::stoi(v);
    } else if (k == "--decisions") {
      decisions = std::stoi(v);
    } else if (k == "--threads") {
      threads = std::stoi(v);
    } else if (k == "--seed") {
      seed = std::stoull(v);
    } else {
      std::fprintf(stderr, "bench_pose_planner: unknown option %s\n", k.c_str());
      return 2;
    }
  }
  if (ks.empty() || horizon < 1 || iterations < 1 || decisions < 1) {
    std::fprintf(stderr,
                 "bench_pose_planner: --k, --horizon, --iterations and --decisions "
                 "must be positive\n");
    return 2;
  }
  for (int k : ks)
    if (k < 1) {
      std::fprintf(stderr, "bench_pose_planner: --k %d: must be positive\n", k);
      return 2;
    }
  threads = wm::init_torch_threads(threads);
  const auto dynamics = ag::PoseDynamics::load(model_path);
  const auto scene = std::make_shared<const sim::SceneModel>(sim::resolve_scene(dynamics->scene()));
  const auto reach = ag::ReachShaping::from_scene(*scene, 1.0, 0.08);
  sim::Renderer renderer(scene);
  sim::WorldRenderInputs gather(*scene);
  const int a = scene->action_size(), driver = scene->body_index(dynamics->driver());
  const std::size_t fsz = static_cast<std::size_t>(renderer.height()) * renderer.width() * 3;
  // Roots: `decisions` episode starts (seeds seed, seed + 1, ...), two frames each (the start and
  // a tick later after one push towards the cube), as the planner perceives them.
  struct Root {
    std::vector<std::uint8_t> frames;
    std::vector<float> driver_xy, action, markers;
    sim::WorldState state;
  };
  std::vector<Root> roots;
  for (int d = 0; d < decisions; ++d) {
    sim::World world(scene, seed + static_cast<std::uint64_t>(d));
    Root r;
    r.frames.resize(2 * fsz);
    renderer.render(gather.gather(world), r.frames.data());
    r.action.assign(a, 0.0f);
    r.action[0] = 1.0f;
    world.step(r.action);
    renderer.render(gather.gather(world), r.frames.data() + fsz);
    std::vector<float> poses(scene->bodies.size() * 7);
    world.poses(poses);
    r.driver_xy = {poses[driver * 7], poses[driver * 7 + 1]};
    r.markers.resize(scene->markers.size() * 3);
    world.marker_positions(r.markers);
    r.state = world.save_state();
    roots.push_back(std::move(r));
  }
  torch::NoGradGuard no_grad;
  for (int k : ks) {
    ag::PlannerOptions o;
    o.kind = ag::PlannerKind::kCem;
    o.candidates = k, o.horizon = horizon, o.iterations = iterations;
    o.elites = std::max(1, k / 8);
    ag::Planner planner(o, a);
    ag::PosePlanModel model(scene, dynamics, k, &reach);
    // One untimed warm-up decision, then each root once: reading, then planning.
    model.set_markers(roots[0].markers);
    model.set_root(roots[0].frames.data(), 2, roots[0].driver_xy, roots[0].action);
    planner.reset(0);
    planner.plan(model);
    double read_s = 0, total_s = 0;
    for (int d = 0; d < decisions; ++d) {
      const auto& r = roots[d];
      planner.reset(static_cast<std::uint64_t>(d) + 1);
      const auto t0 = Clock::now();
      model.set_markers(r.markers);
      model.set_root(r.frames.data(), 2, r.driver_xy, r.action);
      read_s += seconds_since(t0);
      planner.plan(model);
      total_s += seconds_since(t0);
    }
    ag::BulletPlanModel oracle(scene, k, threads);
    oracle.set_reach(reach);
    double bullet_s = 0;
    for (int d = 0; d < decisions; ++d) {
      planner.reset(static_cast<std::uint64_t>(d) + 1);
      const auto t0 = Clock::now();
      oracle.set_root(roots[d].state);
      planner.plan(oracle);
      bullet_s += seconds_since(t0);
    }
    total_s /= decisions, read_s /= decisions, bullet_s /= decisions;
    const double steps = static_cast<double>(k) * horizon * iterations;
    const nlohmann::json line = {{"bench", "pose_planner_decision"},
                                 {"scene", scene->name},
                                 {"family", "pose-dynamics"},
                                 {"threads", threads},
                                 {"k", k},
                                 {"horizon", horizon},
                                 {"iterations", iterations},
                                 {"decisions_timed", decisions},
                                 {"ms_per_decision", 1e3 * total_s},
                                 {"root_read_ms", 1e3 * read_s},
                                 {"decisions_per_s", 1.0 / total_s},
                                 {"imagined_steps_per_s", steps / (total_s - read_s)},
                                 {"bullet_ms_per_decision", 1e3 * bullet_s},
                                 {"bullet_steps_per_s", steps / bullet_s},
                                 {"speed_ratio_vs_bullet", bullet_s / total_s}};
    std::printf("%s\n", line.dump().c_str());
    std::fflush(stdout);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return guarded_main("bench_pose_planner", run, argc, argv);
}
