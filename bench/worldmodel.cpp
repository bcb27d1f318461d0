// bench_worldmodel: training frames/s and imagination steps/s (latent only and with decoding)
// of the RSSM per preset, on the CPU and on CUDA when available. One JSON object per line.
//
//   bench_worldmodel [--presets tiny,small,base] [--device cpu|cuda|all] [--size 64]
//                    [--batch 8] [--seq 16] [--train-steps 5] [--dream 1,64,1024] [--ticks 20]
//                    [--threads 0]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "parallax/worldmodel/dream_batch.hpp"
#include "parallax/worldmodel/episode_store.hpp"
#include "parallax/worldmodel/torch_setup.hpp"
#include "parallax/worldmodel/trainer.hpp"

namespace wm = parallax::worldmodel;
using Clock = std::chrono::steady_clock;

namespace {

struct Args {
  std::vector<std::string> presets = {"tiny", "small", "base"};
  std::string device = "all";
  int size = 64;                  // frame side [px]
  int actions = 2;                // A
  int batch = 8;                  // training B
  int seq = 16;                   // training L
  int train_steps = 5;            // timed training steps (after 2 warm-up steps)
  std::vector<int> dream = {64};  // DreamBatch capacities N
  int ticks = 20;                 // timed ticks
  int threads = 0;
};

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string item; std::getline(ss, item, ',');) out.push_back(item);
  return out;
}

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "bench_worldmodel: %s needs a value\n", k.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (k == "--presets")
      a.presets = split(value());
    else if (k == "--device")
      a.device = value();
    else if (k == "--size")
      a.size = std::stoi(value());
    else if (k == "--batch")
      a.batch = std::stoi(value());
    else if (k == "--seq")
      a.seq = std::stoi(value());
    else if (k == "--train-steps")
      a.train_steps = std::stoi(value());
    else if (k == "--dream") {
      a.dream.clear();
      for (const auto& n : split(value())) a.dream.push_back(std::stoi(n));
    } else if (k == "--ticks")
      a.ticks = std::stoi(value());
    else if (k == "--threads")
      a.threads = std::stoi(value());
    else {
      std::fprintf(stderr,
                   "bench_worldmodel: unknown option %s (see the header of bench/worldmodel.cpp)\n",
                   k.c_str());
      std::exit(2);
    }
  }
  return a;
}

// Random frames and actions: throughput does not depend on the content.
std::vector<wm::Episode> synthetic(int episodes, int steps, int size, int actions) {
  std::mt19937 rng(0);
  std::vector<wm::Episode> out(episodes);
  for (auto& ep : out) {
    ep.steps = steps;
    ep.observations.resize(static_cast<size_t>(steps + 1) * 3 * size * size);
    for (auto& b : ep.observations) b = static_cast<std::uint8_t>(rng());
    ep.actions.resize(static_cast<size_t>(steps) * actions);
    for (auto& x : ep.actions) x = static_cast<float>(rng() % 2001) / 1000.0f - 1.0f;
    ep.rewards.assign(steps, 0.5f);
    ep.terminations.assign(steps, 0);
    ep.truncations.assign(steps, 0);
  }
  return out;
}

void sync(const torch::Device& d) {
  if (d.is_cuda()) torch::cuda::synchronize(d.index() < 0 ? 0 : d.index());
}

void emit(nlohmann::json j) {
  std::printf("%s\n", j.dump().c_str());
  std::fflush(stdout);
}

void bench_preset(const Args& a, const std::string& preset, const std::string& device_name,
                  int threads) {
  const torch::Device device(device_name);
  auto episodes = synthetic(4, std::max(a.seq, 32), a.size, a.actions);
  nlohmann::json base = {{"bench", "worldmodel"},
                         {"preset", preset},
                         {"device", device_name},
                         {"size", a.size},
                         {"threads", threads}};

  // Training: frames/s = B * L / step time (bf16 autocast on CUDA), after 2 warm-up steps.
  wm::TrainOptions o;
  o.preset = preset;
  o.batch = a.batch;
  o.seq = a.seq;
  o.device = device_name;
  o.steps = 1 << 30;
  wm::Trainer trainer(episodes, a.size, a.size, a.actions, o);
  for (int i = 0; i < 2; ++i) trainer.step();
  sync(device);
  auto t0 = Clock::now();
  for (int i = 0; i < a.train_steps; ++i) trainer.step();
  sync(device);
  double s = std::chrono::duration<double>(Clock::now() - t0).count();
  std::int64_t params = 0;
  for (const auto& p : trainer.model()->parameters()) params += p.numel();
  auto j = base;
  j.update({{"kind", "train"},
            {"batch", a.batch},
            {"seq", a.seq},
            {"parameters", params},
            {"step_ms", 1e3 * s / a.train_steps},
            {"frames_per_s", a.train_steps * a.batch * a.seq / s}});
  emit(j);

  // Imagination with DreamBatch: N slots, one batched prior step per tick.
  for (const int n : a.dream) {
    wm::DreamBatch dream(trainer.model(), n, device);
    auto ctx = torch::randint(0, 256, {4, 3, a.size, a.size}).to(torch::kByte);
    dream.reset(0, ctx, torch::zeros({4, a.actions}));
    std::vector<int> rest;
    for (int i = 1; i < n; ++i) rest.push_back(i);
    dream.fork(0, rest);
    auto actions = (torch::rand({n, a.actions}) * 2 - 1).to(device);  // [N, A]
    // Latent, latent replayed from a CUDA graph (CUDA only), latent + decoding.
    for (int variant = 0; variant < 3; ++variant) {
      const bool decode = variant == 2, graph = variant == 1;
      if (graph && !dream.use_cuda_graph(true)) continue;
      if (!graph) dream.use_cuda_graph(false);
      for (int i = 0; i < 3; ++i) {
        dream.tick(actions);
        if (decode) (void)dream.frames();
      }
      sync(device);
      t0 = Clock::now();
      for (int i = 0; i < a.ticks; ++i) {
        dream.tick(actions);
        if (decode) (void)dream.frames();  // decoded and copied to the CPU
      }
      sync(device);
      s = std::chrono::duration<double>(Clock::now() - t0).count();
      j = base;
      j.update({{"kind", decode ? "imagine_decode" : "imagine_latent"},
                {"cuda_graph", graph},
                {"slots", n},
                {"tick_ms", 1e3 * s / a.ticks},
                {"ticks_per_s", a.ticks / s},
                {"steps_per_s", a.ticks * n / s}});
      emit(j);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  const Args a = parse(argc, argv);
  const int threads = wm::init_torch_threads(a.threads);
  std::vector<std::string> devices;
  if (a.device == "all" || a.device == "cpu") devices.push_back("cpu");
  if (a.device == "all" || a.device.rfind("cuda", 0) == 0) {
    if (wm::cuda_available()) {
      devices.push_back(a.device == "all" ? "cuda" : a.device);
    } else {
      emit({{"bench", "worldmodel"}, {"device", "cuda"}, {"skipped", "no CUDA device"}});
    }
  }
  for (const auto& d : devices)
    for (const auto& p : a.presets) bench_preset(a, p, d, threads);
  return 0;
}
