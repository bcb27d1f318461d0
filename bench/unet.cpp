// bench_unet: the `unet` family's inference on the CPU: one DreamBatch tick (step + decode to
// u8) per N, with the same network in PyTorch eager timed in the same run as the baseline
// (bench/unet_eager.py, forward of the same checkpoint at the same N). One JSON line per N.
// `--bf16 1` also times the tick at bf16 inference precision (DreamBatch::set_precision, a
// second copy of the model) against f32 in the same run: `ratio_bf16_vs_f32`.
//
//   bench_unet MODEL.pt [--n 1,16,64,256] [--ticks 20] [--threads 0] [--python PY] [--bf16 0|1]
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
#include "parallax/worldmodel/precision.hpp"
#include "parallax/worldmodel/torch_setup.hpp"
#include "parallax/worldmodel/world_model.hpp"

namespace wm = parallax::worldmodel;
using Clock = std::chrono::steady_clock;

namespace {

int run(int argc, char** argv) {
  if (argc < 2 || std::string(argv[1]).rfind("--", 0) == 0) {
    std::fprintf(
        stderr,
        "usage: bench_unet MODEL.pt [--n 1,16,64,256] [--ticks 20] [--threads 0] [--python PY] "
        "[--bf16 0|1]\n");
    return 2;
  }
  std::string model_path = argv[1], python = "python3";
  std::vector<int> ns = {1, 16, 64, 256};
  int ticks = 20, threads = 0, bf16 = 0;
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--n") {
      ns.clear();
      std::stringstream ss(v);
      for (std::string x; std::getline(ss, x, ',');) ns.push_back(std::stoi(x));
    } else if (k == "--ticks") {
      ticks = std::stoi(v);
    } else if (k == "--threads") {
      threads = std::stoi(v);
    } else if (k == "--bf16") {
      bf16 = std::stoi(v);
    } else if (k == "--python") {
      python = v;
    } else {
      std::fprintf(stderr, "bench_unet: unknown option %s\n", k.c_str());
      return 2;
    }
  }
  threads = wm::init_torch_threads(threads);
  auto model = wm::load_world_model(model_path).model;
  // bf16 stores the convolution weights channels-last: its own copy leaves the f32 runs as is.
  auto model_bf16 = bf16 != 0 ? wm::load_world_model(model_path).model : nullptr;
  const auto& info = model->info();
  torch::NoGradGuard no_grad;
  // ms per tick (step + decode to u8) of N slots forked from one random context.
  const auto time_ticks = [&](std::shared_ptr<wm::WorldModel> m, int n, wm::Precision precision) {
    wm::DreamBatch dream(std::move(m), n, torch::kCPU);
    dream.set_precision(precision);
    auto ctx =
        (torch::rand({info.context_frames, 3, info.height, info.width}) * 255).to(torch::kUInt8);
    dream.reset(0, ctx, torch::zeros({info.context_frames, info.action_size}));
    std::vector<int> dst;
    for (int i = 1; i < n; ++i) dst.push_back(i);
    dream.fork(0, dst);
    auto actions = torch::rand({n, info.action_size}) * 2 - 1;
    for (int i = 0; i < 2; ++i) dream.tick(actions), (void)dream.frames();  // warm-up
    const auto t0 = Clock::now();
    for (int i = 0; i < ticks; ++i) {
      dream.tick(actions);
      (void)dream.frames();
    }
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count() / ticks;
  };
  for (int n : ns) {
    const double ms = time_ticks(model, n, wm::Precision::kF32);
    // Baseline in the same run: PyTorch eager forward of the same checkpoint at the same N.
    const std::string cmd = python + " " + PARALLAX_SOURCE_DIR + "/bench/unet_eager.py " +
                            model_path + " " + std::to_string(n) + " " + std::to_string(ticks) +
                            " " + std::to_string(threads);
    double eager_ms = -1;
    if (FILE* p = ::popen(cmd.c_str(), "r")) {
      char buf[256] = {};
      if (std::fgets(buf, sizeof buf, p)) eager_ms = std::atof(buf);
      ::pclose(p);
    }
    nlohmann::json line = {
        {"bench", "unet_tick"},
        {"family", info.family},
        {"n", n},
        {"threads", threads},
        {"ms_per_tick", ms},
        {"ms_per_sample", ms / n},
        {"pytorch_eager_ms", eager_ms > 0 ? nlohmann::json(eager_ms) : nlohmann::json(nullptr)},
        {"ratio_vs_eager", eager_ms > 0 ? nlohmann::json(ms / eager_ms) : nlohmann::json(nullptr)}};
    if (model_bf16) {
      const double low = time_ticks(model_bf16, n, wm::Precision::kBF16);
      line["bf16_ms_per_tick"] = low;
      line["ratio_bf16_vs_f32"] = ms / low;
    }
    std::printf("%s\n", line.dump().c_str());
    std::fflush(stdout);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return guarded_main("bench_unet", run, argc, argv);
}
