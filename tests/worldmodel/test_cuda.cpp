// World model on CUDA (live on a GPU machine; on a machine without CUDA each test warns
// "CUDA not available: ... not run" and returns; bench/device-check-worldmodel.sh fails if it
// finds that line there): DreamBatch on CUDA equals the CPU engine, bf16 autocast training
// learns and stays finite, a CUDA checkpoint loads on the CPU bit-identically, resume on CUDA.
#include <unistd.h>

#include <filesystem>
#include <string>

#include "parallax/worldmodel/checkpoint.hpp"
#include "parallax/worldmodel/dream_batch.hpp"
#include "parallax/worldmodel/torch_setup.hpp"
#include "parallax/worldmodel/trainer.hpp"
#include "synthetic.hpp"
#include "torch_catch.hpp"

namespace wm = parallax::worldmodel;
namespace fs = std::filesystem;
using parallax::worldmodel::testing::moving_square;

namespace {

bool have_cuda(const char* what) {
  if (wm::cuda_available()) return true;
  WARN("CUDA not available: " << what << " not run");
  return false;
}

// Full fp32 on the GPU (no TF32) so that CPU and CUDA agree to float rounding.
void strict_fp32() {
  at::globalContext().setAllowTF32CuBLAS(false);
  at::globalContext().setAllowTF32CuDNN(false);
  at::globalContext().setDeterministicCuDNN(true);
  at::globalContext().setBenchmarkCuDNN(false);
}

double max_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kCPU, torch::kFloat) - b.to(torch::kCPU, torch::kFloat))
      .abs()
      .max()
      .item<double>();
}

}  // namespace

TEST_CASE("CUDA: DreamBatch on CUDA equals the CPU engine", "[worldmodel][.cuda]") {
  if (!have_cuda("CUDA DreamBatch comparison")) return;
  strict_fp32();
  wm::init_torch_threads(1);
  torch::manual_seed(1);
  wm::RSSM cpu_model(wm::make_preset("tiny", 64, 64, 2));
  auto dir = fs::temp_directory_path() / ("parallax_cuda_" + std::to_string(::getpid()) + ".pt");
  wm::save_checkpoint(dir, cpu_model, cpu_model->config());
  auto gpu = wm::load_checkpoint(dir, torch::kCUDA);
  auto cpu = wm::load_checkpoint(dir, torch::kCPU);
  fs::remove(dir);

  const int cap = 16, C = 4, K = 8;
  torch::manual_seed(2);
  auto ctx = torch::randint(0, 256, {C, 3, 64, 64}).to(torch::kByte);
  auto ctx_actions = torch::rand({C, 2});
  auto future = torch::rand({K, cap, 2}) * 2 - 1;
  wm::DreamBatch a(cpu.model, cap, torch::kCPU), b(gpu.model, cap, torch::kCUDA);
  for (auto* d : {&a, &b}) {
    d->set_sampling(wm::Sampling::kMode);
    d->reset(0, ctx, ctx_actions);
    std::vector<int> rest;
    for (int i = 1; i < cap; ++i) rest.push_back(i);
    d->fork(0, rest);
    for (int k = 0; k < K; ++k) d->tick(future[k]);
  }
  const double deter = max_diff(a.state()[0], b.state()[0]);
  const double frames = max_diff(a.frames(), b.frames());
  const double reward = max_diff(a.reward(), b.reward());
  INFO("max |cpu - cuda|: deter " << deter << ", frames " << frames << " levels, reward "
                                  << reward);
  CHECK(deter < 1e-3);
  CHECK(frames <= 2.0);
  CHECK(reward < 1e-3);
  CHECK(b.frames().device().is_cpu());

  // Sampled futures on CUDA diverge across forked slots.
  b.set_sampling(wm::Sampling::kSample, 7);
  b.reset(0, ctx, ctx_actions);
  b.fork(0, {1, 2, 3});
  for (int k = 0; k < 3; ++k) b.tick(future[k]);
  CHECK_FALSE(torch::equal(b.state()[1][0], b.state()[1][1]));
}

TEST_CASE("CUDA: bf16 autocast training learns and stays finite", "[worldmodel][.cuda]") {
  if (!have_cuda("CUDA bf16 training")) return;
  wm::init_torch_threads(1);
  auto eps = moving_square(12, 32, 32, 3);
  wm::TrainOptions o;
  o.preset = "tiny";
  o.batch = 16;
  o.seq = 16;
  o.lr = 1e-3;
  o.steps = 200;
  o.device = "cuda";
  wm::Trainer trainer(eps, 32, 32, 2, o);
  double first = 0, last = 0;
  trainer.run([&](const wm::StepMetrics& m) {
    if (m.step <= 10) first += m.recon / 10;
    if (m.step > o.steps - 10) last += m.recon / 10;
  });
  INFO("recon first " << first << " last " << last);
  CHECK(trainer.skipped_steps() == 0);
  CHECK(std::isfinite(last));
  CHECK(last < 0.5 * first);
  for (const auto& p : trainer.model()->parameters()) {
    CHECK(p.scalar_type() == torch::kFloat);  // autocast leaves the weights in fp32
    CHECK(p.device().is_cuda());
  }

  // The CUDA checkpoint loads on the CPU with the same weights, bit for bit.
  auto path =
      fs::temp_directory_path() / ("parallax_cuda_train_" + std::to_string(::getpid()) + ".pt");
  trainer.save(path);
  auto loaded = wm::load_checkpoint(path, torch::kCPU);
  auto pa = trainer.model()->parameters(), pb = loaded.model->parameters();
  REQUIRE(pa.size() == pb.size());
  for (size_t i = 0; i < pa.size(); ++i) CHECK(torch::equal(pa[i].cpu(), pb[i]));
  fs::remove(path);
}

TEST_CASE("CUDA: resume continues a CUDA run", "[worldmodel][.cuda]") {
  if (!have_cuda("CUDA resume")) return;
  strict_fp32();
  wm::init_torch_threads(1);
  auto eps = moving_square(4, 16, 32, 9);
  auto path =
      fs::temp_directory_path() / ("parallax_cuda_resume_" + std::to_string(::getpid()) + ".pt");
  wm::TrainOptions o;
  o.preset = "tiny";
  o.batch = 4;
  o.seq = 8;
  o.device = "cuda";
  o.steps = 6;
  wm::Trainer straight(eps, 32, 32, 2, o);
  std::vector<double> a;
  straight.run([&](const wm::StepMetrics& m) { a.push_back(m.loss); });

  o.out = path;
  o.steps = 3;
  wm::Trainer first(eps, 32, 32, 2, o);
  first.run();
  o.steps = 6;
  o.resume = true;
  wm::Trainer second(eps, 32, 32, 2, o);
  REQUIRE(second.current_step() == 3);
  std::vector<double> b;
  second.run([&](const wm::StepMetrics& m) { b.push_back(m.loss); });
  REQUIRE(b.size() == 3);
  // Same batches and latent draws; the GPU's reductions may round differently run to run.
  for (int i = 0; i < 3; ++i) CHECK(b[i] == Approx(a[3 + i]).epsilon(1e-3));
  fs::remove(path);
}

TEST_CASE("CUDA: DreamBatch ticks replayed from a CUDA graph equal eager ticks",
          "[worldmodel][.cuda]") {
  if (!have_cuda("CUDA graph DreamBatch comparison")) return;
  strict_fp32();
  torch::manual_seed(3);
  wm::RSSM model(wm::make_preset("tiny", 64, 64, 2));
  const int cap = 8;
  auto ctx = torch::randint(0, 256, {3, 3, 64, 64}).to(torch::kByte);
  auto ctx2 = torch::randint(0, 256, {3, 3, 64, 64}).to(torch::kByte);
  auto ctx_actions = torch::rand({3, 2});
  auto future = torch::rand({12, cap, 2}) * 2 - 1;
  wm::DreamBatch eager(model, cap, torch::kCUDA), graph(model, cap, torch::kCUDA);
  eager.set_sampling(wm::Sampling::kMode);
  graph.set_sampling(wm::Sampling::kMode);
  REQUIRE(graph.use_cuda_graph(true));
  for (auto* d : {&eager, &graph}) {
    d->reset(0, ctx, ctx_actions);
    d->fork(0, {1, 2, 3});
    for (int k = 0; k < 12; ++k) {
      if (k == 4) d->close(2);  // slot changes between replays are seen
      if (k == 6) d->reset(5, ctx2, ctx_actions);
      if (k == 8) d->fork(5, {6});
      d->tick(future[k]);
    }
  }
  const double deter = max_diff(eager.state()[0], graph.state()[0]);
  const double stoch = max_diff(eager.state()[1], graph.state()[1]);
  INFO("max |eager - graph|: deter " << deter << ", stoch " << stoch);
  CHECK(deter < 1e-5);
  CHECK(stoch < 1e-5);
  CHECK(graph.ticks() == 12);
  CHECK(max_diff(eager.frames(), graph.frames()) <= 1.0);

  // Sampled latents from a graph: new draws at every replay, forks diverge.
  graph.set_sampling(wm::Sampling::kSample, 5);
  REQUIRE(graph.use_cuda_graph(true));
  graph.reset(0, ctx, ctx_actions);
  graph.fork(0, {1, 2, 3, 4, 5, 6, 7});
  auto zero = torch::zeros({cap, 2});
  graph.tick(zero);
  auto s1 = graph.state()[1].clone();
  graph.tick(zero);
  auto s2 = graph.state()[1].clone();
  CHECK_FALSE(torch::equal(s1, s2));
  CHECK_FALSE(torch::equal(s2[0], s2[1]));
  CHECK(torch::isfinite(graph.state()[0]).all().item<bool>());
}
