// bench_pose_world: the `pose-world` family's inference on the CPU through DreamBatch, with the
// same network in PyTorch eager timed in the same run as the baseline (bench/pose_world_eager.py).
//   "pose_world_step":    one tick = step + reward + continue (a planner's imagined step)
//   "pose_world_decoded": that plus frames() (the scene rendered at the predicted positions)
//   "pose_world_encode":  reading a context of 4 true frames (render and compare), per episode
//   "pose_world_observe": reading one true frame from the model's estimate, per frame
// One JSON line each, with the goals (20 us per sample at N = 1024 for the cheap step,
// 25 ms per decoded tick at N = 16) next to the figure.
//
//   bench_pose_world MODEL.pt [--step-n 1,64,256,1024] [--decoded-n 1,16,64] [--ticks 20]
//                    [--threads 0] [--python PY]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "guarded_main.hpp"
#include "parallax/agents/model_source.hpp"
#include "parallax/sim/render_inputs.hpp"
#include "parallax/sim/renderer.hpp"
#include "parallax/sim/world.hpp"
#include "parallax/worldmodel/dream_batch.hpp"
#include "parallax/worldmodel/model_file.hpp"
#include "parallax/worldmodel/torch_setup.hpp"

namespace ag = parallax::agents;
namespace sim = parallax::sim;
namespace wm = parallax::worldmodel;
using Clock = std::chrono::steady_clock;

namespace {

std::vector<int> ints(const std::string& v) {
  std::vector<int> out;
  std::stringstream ss(v);
  for (std::string x; std::getline(ss, x, ',');) out.push_back(std::stoi(x));
  return out;
}

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

int run(int argc, char** argv) {
  const char* usage =
      "usage: bench_pose_world MODEL.pt [--step-n 1,64,256,1024] [--decoded-n 1,16,64] "
      "[--ticks 20] [--threads 0] [--python PY]\n";
  if (argc < 2 || std::string(argv[1]).rfind("--", 0) == 0) {
    std::fputs(usage, stderr);
    return 2;
  }
  std::string path = argv[1], python = "python3";
  std::vector<int> step_n = {1, 64, 256, 1024}, decoded_n = {1, 16, 64};
  int ticks = 20, threads = 0;
  for (int i = 2; i < argc; i += 2) {
    const std::string k = argv[i];
    if (i + 1 >= argc) {
      std::fprintf(stderr, "bench_pose_world: %s needs a value\n%s", k.c_str(), usage);
      return 2;
    }
    const std::string v = argv[i + 1];
    if (k == "--step-n") {
      step_n = ints(v);
    } else if (k == "--decoded-n") {
      decoded_n = ints(v);
    } else if (k == "--ticks") {
      ticks = std::stoi(v);
    } else if (k == "--threads") {
      threads = std::stoi(v);
    } else if (k == "--python") {
      python = v;
    } else {
      std::fprintf(stderr, "bench_pose_world: unknown option %s\n%s", k.c_str(), usage);
      return 2;
    }
  }
  if (ticks < 1) throw std::invalid_argument("--ticks must be >= 1");
  threads = wm::init_torch_threads(threads);
  const auto file = wm::read_model_file(path);
  if (!file || file->family != "pose-world") {
    std::fprintf(stderr, "bench_pose_world: %s: not a pose-world checkpoint\n", path.c_str());
    return 1;
  }
  const auto cfg = nlohmann::json::parse(file->config);
  const auto scene = std::make_shared<const sim::SceneModel>(
      sim::resolve_scene(cfg.value("scene", std::string())));
  const auto src = ag::load_model_for_scene(*scene, path, "cpu", 0);
  const auto model = src.model;
  const auto& info = model->info();
  torch::NoGradGuard no_grad;

  // A true context: 4 frames of an episode under random forces, and the frame after it.
  const sim::Renderer renderer(scene);
  sim::World world(scene, 1000000123);
  sim::WorldRenderInputs gather(*scene);
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  const int h = info.height, w = info.width, a = info.action_size;
  auto frames = torch::empty({5, 3, h, w}, torch::kUInt8);
  auto acts = torch::zeros({5, a});
  std::vector<std::uint8_t> rgb(static_cast<std::size_t>(h) * w * 3);
  for (int t = 0; t < 5; ++t) {
    renderer.render(gather.gather(world), rgb.data());
    frames[t].copy_(torch::from_blob(rgb.data(), {h, w, 3}, torch::kUInt8).permute({2, 0, 1}));
    std::vector<float> act(a);
    for (auto& x : act) x = u(rng);
    world.step(act);
    if (t + 1 < 5) acts[t + 1] = torch::tensor(act);
  }
  const auto ctx = frames.narrow(0, 0, 4), next = frames.narrow(0, 4, 1);

  {  // Perception: encode a context, observe one frame.
    wm::DreamBatch dream(model, 1, torch::kCPU);
    auto t0 = Clock::now();
    for (int i = 0; i < 3; ++i) dream.reset(0, ctx, acts.narrow(0, 0, 4));
    const double encode_ms = ms_since(t0) / 3;
    dream.tick(acts.narrow(0, 4, 1).clone().fill_(0.1f));
    t0 = Clock::now();
    for (int i = 0; i < 3; ++i) dream.observe(next, torch::ones({1}, torch::kBool));
    const double observe_ms = ms_since(t0) / 3;
    std::printf("%s\n", nlohmann::json({{"bench", "pose_world_encode"},
                                        {"context_frames", 4},
                                        {"ms_per_episode", encode_ms}})
                            .dump()
                            .c_str());
    std::printf("%s\n",
                nlohmann::json({{"bench", "pose_world_observe"}, {"ms_per_frame", observe_ms}})
                    .dump()
                    .c_str());
  }
  for (const std::string mode : {"step", "decoded"}) {
    const bool decoded = mode == "decoded";
    for (int n : decoded ? decoded_n : step_n) {
      wm::DreamBatch dream(model, n, torch::kCPU);
      dream.reset(0, ctx, acts.narrow(0, 0, 4));
      std::vector<int> dst;
      for (int i = 1; i < n; ++i) dst.push_back(i);
      dream.fork(0, dst);
      auto actions = torch::rand({n, a}) * 2 - 1;
      auto tick = [&] {
        dream.tick(actions);
        (void)dream.reward();
        (void)dream.cont();
        if (decoded) (void)dream.frames();
      };
      for (int i = 0; i < 2; ++i) tick();  // warm-up
      const auto t0 = Clock::now();
      for (int i = 0; i < ticks; ++i) tick();
      const double ms = ms_since(t0) / ticks;
      double eager_ms = -1;
      if (!decoded) {
        const std::string cmd = python + " " + PARALLAX_SOURCE_DIR + "/bench/pose_world_eager.py " +
                                path + " " + std::to_string(n) + " " + std::to_string(ticks) + " " +
                                std::to_string(threads);
        if (FILE* p = ::popen(cmd.c_str(), "r")) {
          char buf[256] = {};
          if (std::fgets(buf, sizeof buf, p)) eager_ms = std::atof(buf);
          ::pclose(p);
        }
      }
      nlohmann::json line = {
          {"bench", decoded ? "pose_world_decoded" : "pose_world_step"},
          {"n", n},
          {"threads", threads},
          {"ms_per_tick", ms},
          {"us_per_sample", 1000.0 * ms / n},
          {"pytorch_eager_ms", eager_ms > 0 ? nlohmann::json(eager_ms) : nlohmann::json(nullptr)},
          {"ratio_vs_eager",
           eager_ms > 0 ? nlohmann::json(ms / eager_ms) : nlohmann::json(nullptr)}};
      if (!decoded && n == 1024) line["goal_us_per_sample"] = 20;
      if (decoded && n == 16) line["goal_ms_per_tick"] = 25;
      std::printf("%s\n", line.dump().c_str());
      std::fflush(stdout);
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return guarded_main("bench_pose_world", run, argc, argv);
}
