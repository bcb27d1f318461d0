// bench_planner: planning throughput. For each K, CEM decisions (horizon H, `iterations`
// refinements) from a push start state with the learned model as the planner's model (K futures
// forked and advanced in one batched tick per step), and the same decisions with Bullet as the
// model (the oracle, restored from the exact saved state) as the baseline in the same run. One
// JSON line per K: imagined steps/s and decisions/s for both, and their ratio. `--reward poses`
// also times the dream scoring with the scene's reward on the predicted poses (a pose head's,
// or found in the imagined frames: DreamPlanModel::set_pose_reward) and reports its cost
// against the reward head's in the same run (`poses_vs_head_time`). `--bf16 1` also times the
// dream at bf16 inference precision (DreamPlanModel::set_precision, a second copy of the model)
// against f32 in the same run (`speed_ratio_bf16_vs_f32`). `--judge JUDGE.pt --finalists 2,4`
// (with `--reward poses`) also times decisions where JUDGE (bf16, the poses found in its frames
// with `plan`'s judge reader: rest tolerance 0.01, contact gate 0.12, proprioception, edge guard
// and reader) decides among N finalists of the model's search (Planner::plan(model, judge)), as
// `judge_ms_per_decision` per N and `judge_vs_alone_time` against the model's poses decision.
//
//   bench_planner MODEL.pt [--k 64,256,1024] [--horizon 15] [--iterations 4] [--decisions 2]
//                 [--threads 0] [--device cpu|cuda] [--graph 0|1] [--scene push]
//                 [--reward head|poses] [--bf16 0|1] [--judge JUDGE.pt] [--finalists 2,4]
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "guarded_main.hpp"
#include "parallax/agents/planner.hpp"
#include "parallax/sim/renderer.hpp"
#include "parallax/sim/world.hpp"
#include "parallax/worldmodel/precision.hpp"
#include "parallax/worldmodel/torch_setup.hpp"
#include "parallax/worldmodel/world_model.hpp"

namespace ag = parallax::agents;
namespace sim = parallax::sim;
namespace wm = parallax::worldmodel;
using Clock = std::chrono::steady_clock;

namespace {

// Seconds per decision over `decisions` timed decisions, after one untimed warm-up decision.
double time_decisions(ag::Planner& planner, ag::PlanModel& model, int decisions,
                      ag::PlanModel* judge = nullptr) {
  planner.reset(0);
  planner.plan(model, judge);
  const auto t0 = Clock::now();
  for (int d = 0; d < decisions; ++d) {
    planner.reset(static_cast<std::uint64_t>(d) + 1);
    planner.plan(model, judge);
  }
  return std::chrono::duration<double>(Clock::now() - t0).count() / decisions;
}

}  // namespace

namespace {

int run(int argc, char** argv) {
  if (argc < 2 || std::string(argv[1]).rfind("--", 0) == 0) {
    std::fprintf(stderr,
                 "usage: bench_planner MODEL.pt [--k 64,256,1024] [--horizon 15] [--iterations 4] "
                 "[--decisions 2] [--threads 0] [--device cpu|cuda] [--graph 0|1] [--scene push] "
                 "[--reward head|poses] [--bf16 0|1] [--judge JUDGE.pt] [--finalists 2,4]\n");
    return 2;
  }
  std::string model_path = argv[1], device = "cpu", scene_name = "push", reward = "head";
  std::string judge_path;
  std::vector<int> ks = {64, 256, 1024}, finalists = {2, 4};
  int horizon = 15, iterations = 4, decisions = 2, threads = 0, graph = 0, bf16 = 0;
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--k" || k == "--finalists") {
      auto& list = k == "--k" ? ks : finalists;
      list.clear();
      std::stringstream ss(v);
      for (std::string x; std::getline(ss, x, ',');) list.push_back(std::stoi(x));
    } else if (k == "--judge") {
      judge_path = v;
    } else if (k == "--horizon") {
      horizon = std::stoi(v);
    } else if (k == "--iterations") {
      iterations = std::stoi(v);
    } else if (k == "--decisions") {
      decisions = std::stoi(v);
    } else if (k == "--threads") {
      threads = std::stoi(v);
    } else if (k == "--device") {
      device = v;
    } else if (k == "--bf16") {
      bf16 = std::stoi(v);
    } else if (k == "--graph") {
      graph = std::stoi(v);
    } else if (k == "--scene") {
      scene_name = v;
    } else if (k == "--reward" && (v == "head" || v == "poses")) {
      reward = v;
    } else {
      std::fprintf(stderr, "bench_planner: unknown option %s\n", k.c_str());
      return 2;
    }
  }
  if (device != "cpu" && device != "cuda") {
    std::fprintf(stderr, "bench_planner: --device: '%s' is not cpu or cuda\n", device.c_str());
    return 2;
  }
  if (device == "cuda" && !wm::cuda_available()) {
    std::fprintf(stderr,
                 "bench_planner: --device cuda: no CUDA device is available on this machine\n");
    return 2;
  }
  if (!judge_path.empty() && reward != "poses") {
    std::fprintf(stderr, "bench_planner: --judge needs --reward poses\n");
    return 2;
  }
  threads = wm::init_torch_threads(threads);
  auto model = wm::load_world_model(model_path).model;
  // bf16 stores the convolution weights channels-last: its own copy leaves the f32 runs as is.
  auto model_bf16 = bf16 != 0 ? wm::load_world_model(model_path).model : nullptr;
  auto judge = judge_path.empty() ? nullptr : wm::load_world_model(judge_path).model;
  const auto scene = std::make_shared<const sim::SceneModel>(sim::resolve_scene(scene_name));
  const auto& info = model->info();
  // The root: the scene's start state (seed 0), its frame as the model's context.
  sim::World world(scene, 0);
  sim::Renderer renderer(scene);
  const std::size_t nb = scene->bodies.size(), nm = scene->markers.size();
  std::vector<float> poses(nb * 7), markers(nm * 3), colors(nb * 3), sizes(nb);
  world.poses(poses), world.marker_positions(markers), world.body_colors(colors),
      world.body_size_scales(sizes);
  auto frame = torch::empty({1, info.height, info.width, 3}, torch::kUInt8);
  renderer.render({.n = 1,
                   .poses = poses.data(),
                   .markers = markers.data(),
                   .colors = colors.data(),
                   .scales = sizes.data()},
                  frame.data_ptr<std::uint8_t>(), nullptr);
  const auto root_frames = frame.permute({0, 3, 1, 2}).contiguous();
  const auto root_actions = torch::zeros({1, info.action_size});
  torch::NoGradGuard no_grad;
  for (int k : ks) {
    ag::PlannerOptions o;
    o.kind = ag::PlannerKind::kCem;
    o.candidates = k, o.horizon = horizon, o.iterations = iterations;
    o.elites = std::max(1, k / 8);
    ag::Planner planner(o, info.action_size);
    ag::DreamPlanModel dream(model, k, torch::Device(device));
    const bool graphs = graph != 0 && dream.use_cuda_graph(true);
    dream.set_root(root_frames, root_actions);
    const double dream_s = time_decisions(planner, dream, decisions);
    ag::BulletPlanModel oracle(scene, k, threads);
    oracle.set_root(world.save_state());
    const double bullet_s = time_decisions(planner, oracle, decisions);
    double poses_s = 0;
    if (reward == "poses") {
      ag::DreamPlanModel by_poses(model, k, torch::Device(device));
      by_poses.set_pose_reward(*scene);
      by_poses.set_markers(markers);
      by_poses.set_root(root_frames, root_actions);
      poses_s = time_decisions(planner, by_poses, decisions);
    }
    double bf16_s = 0;
    if (model_bf16) {
      ag::DreamPlanModel low(model_bf16, k, torch::Device(device));
      low.set_precision(wm::Precision::kBF16);
      if (reward == "poses") low.set_pose_reward(*scene), low.set_markers(markers);
      low.set_root(root_frames, root_actions);
      bf16_s = time_decisions(planner, low, decisions);
    }
    const double steps = static_cast<double>(k) * horizon * iterations;
    nlohmann::json line = {{"bench", "planner_decision"},
                           {"scene", scene->name},
                           {"family", info.family},
                           {"device", device},
                           {"cuda_graph", graphs},
                           {"threads", threads},
                           {"k", k},
                           {"horizon", horizon},
                           {"iterations", iterations},
                           {"decisions_timed", decisions},
                           {"dream_ms_per_decision", 1e3 * dream_s},
                           {"dream_decisions_per_s", 1.0 / dream_s},
                           {"dream_imagined_steps_per_s", steps / dream_s},
                           {"bullet_ms_per_decision", 1e3 * bullet_s},
                           {"bullet_decisions_per_s", 1.0 / bullet_s},
                           {"bullet_steps_per_s", steps / bullet_s},
                           {"speed_ratio_dream_vs_bullet", bullet_s / dream_s}};
    if (model_bf16) {
      // Against the f32 dream with the same reward (the poses' when --reward poses).
      line["bf16_ms_per_decision"] = 1e3 * bf16_s;
      line["speed_ratio_bf16_vs_f32"] = (reward == "poses" ? poses_s : dream_s) / bf16_s;
    }
    if (reward == "poses") {
      line["poses_ms_per_decision"] = 1e3 * poses_s;
      line["poses_vs_head_time"] = poses_s / dream_s;
    }
    if (judge) {
      // The judge as `plan --judge` runs it; the pusher's x, y for proprioception is Bullet's.
      std::vector<float> own_xy;
      for (int n : finalists) {
        ag::PlannerOptions oj = o;
        oj.finalists = n;
        ag::Planner judged(oj, info.action_size);
        ag::DreamPlanModel by_poses(model, k, torch::Device(device));
        by_poses.set_pose_reward(*scene);
        by_poses.set_markers(markers);
        by_poses.set_root(root_frames, root_actions);
        ag::DreamPlanModel jm(judge, n, torch::Device(device));
        jm.set_pose_reward(*scene);
        jm.set_rest_tolerance(0.01);
        jm.set_contact_gate(0.12);
        jm.set_proprioception(true);
        jm.set_edge_guard(true);
        jm.set_edge_reader(true);
        jm.set_precision(wm::Precision::kBF16);
        jm.set_markers(markers);
        jm.set_root(root_frames, root_actions);
        own_xy.clear();
        for (const auto& body : jm.proprioceptive_bodies()) {
          const int b = scene->body_index(body);
          own_xy.push_back(poses[7 * b]), own_xy.push_back(poses[7 * b + 1]);
        }
        jm.set_proprioception_xy(own_xy);
        const double judge_s = time_decisions(judged, by_poses, decisions, &jm);
        line["judge_ms_per_decision"][std::to_string(n)] = 1e3 * judge_s;
        line["judge_vs_alone_time"][std::to_string(n)] = judge_s / poses_s;
      }
      line["judge"] = judge_path;
    }
    std::printf("%s\n", line.dump().c_str());
    std::fflush(stdout);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return guarded_main("bench_planner", run, argc, argv);
}
