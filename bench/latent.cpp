// bench_latent: the `latent` family's inference on the CPU through DreamBatch, with the same
// network in PyTorch eager timed in the same run as the baseline (bench/latent_eager.py).
//   mode "latent":  one tick = step + reward + continue (what a planner pays per imagined step)
//   mode "decoded": that plus frames() (decode to u8: what the viewer and the demo pay)
// One JSON line per mode and N, with the goals (20 us per sample at N = 1024 for the
// latent step, 25 ms per decoded tick at N = 16) next to the figure.
//
//   bench_latent MODEL.pt [--latent-n 1,64,256,1024] [--decoded-n 1,16,64,256] [--ticks 20]
//                [--threads 0] [--python PY]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "guarded_main.hpp"
#include "parallax/worldmodel/dream_batch.hpp"
#include "parallax/worldmodel/torch_setup.hpp"
#include "parallax/worldmodel/world_model.hpp"

namespace wm = parallax::worldmodel;
using Clock = std::chrono::steady_clock;

namespace {

std::vector<int> ints(const std::string& v) {
  std::vector<int> out;
  std::stringstream ss(v);
  for (std::string x; std::getline(ss, x, ',');) out.push_back(std::stoi(x));
  return out;
}

}  // namespace

namespace {

int run(int argc, char** argv) {
  const char* usage =
      "usage: bench_latent MODEL.pt [--latent-n 1,64,256,1024] [--decoded-n 1,16,64,256] "
      "[--ticks 20] [--threads 0] [--python PY]\n";
  if (argc < 2 || std::string(argv[1]).rfind("--", 0) == 0) {
    std::fputs(usage, stderr);
    return 2;
  }
  std::string model_path = argv[1], python = "python3";
  std::vector<int> latent_n = {1, 64, 256, 1024}, decoded_n = {1, 16, 64, 256};
  int ticks = 20, threads = 0;
  for (int i = 2; i < argc; i += 2) {
    const std::string k = argv[i];
    if (i + 1 >= argc) {
      std::fprintf(stderr, "bench_latent: %s needs a value\n%s", k.c_str(), usage);
      return 2;
    }
    const std::string v = argv[i + 1];
    if (k == "--latent-n") {
      latent_n = ints(v);
    } else if (k == "--decoded-n") {
      decoded_n = ints(v);
    } else if (k == "--ticks") {
      ticks = std::stoi(v);
    } else if (k == "--threads") {
      threads = std::stoi(v);
    } else if (k == "--python") {
      python = v;
    } else {
      std::fprintf(stderr, "bench_latent: unknown option %s\n%s", k.c_str(), usage);
      return 2;
    }
  }
  threads = wm::init_torch_threads(threads);
  wm::LoadedWorldModel loaded;
  try {
    loaded = wm::load_world_model(model_path);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_latent: %s\n", e.what());
    return 1;
  }
  auto model = loaded.model;
  const auto& info = model->info();
  if (info.family != "latent") {
    std::fprintf(stderr, "bench_latent: %s: family '%s', expected 'latent'\n", model_path.c_str(),
                 info.family.c_str());
    return 1;
  }
  torch::NoGradGuard no_grad;
  for (const std::string mode : {"latent", "decoded"}) {
    const bool decoded = mode == "decoded";
    for (int n : decoded ? decoded_n : latent_n) {
      wm::DreamBatch dream(model, n, torch::kCPU);
      auto ctx = (torch::rand({2, 3, info.height, info.width}) * 255).to(torch::kUInt8);
      dream.reset(0, ctx, torch::zeros({2, info.action_size}));
      std::vector<int> dst;
      for (int i = 1; i < n; ++i) dst.push_back(i);
      dream.fork(0, dst);
      auto actions = torch::rand({n, info.action_size}) * 2 - 1;
      auto tick = [&] {
        dream.tick(actions);
        (void)dream.reward();
        (void)dream.cont();
        if (decoded) (void)dream.frames();
      };
      for (int i = 0; i < 2; ++i) tick();  // warm-up
      const auto t0 = Clock::now();
      for (int i = 0; i < ticks; ++i) tick();
      const double ms =
          std::chrono::duration<double, std::milli>(Clock::now() - t0).count() / ticks;
      const std::string cmd = python + " " + PARALLAX_SOURCE_DIR + "/bench/latent_eager.py " +
                              model_path + " " + mode + " " + std::to_string(n) + " " +
                              std::to_string(ticks) + " " + std::to_string(threads);
      double eager_ms = -1;
      if (FILE* p = ::popen(cmd.c_str(), "r")) {
        char buf[256] = {};
        if (std::fgets(buf, sizeof buf, p)) eager_ms = std::atof(buf);
        ::pclose(p);
      }
      nlohmann::json line = {
          {"bench", decoded ? "latent_decoded_tick" : "latent_step"},
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
  return guarded_main("bench_latent", run, argc, argv);
}
