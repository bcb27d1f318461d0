// RSSM, checkpoints and DreamBatch: batched equals one-at-a-time, DreamBatch equals imagine,
// checkpoints round-trip bit-exactly and bad files fail with clear messages.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>

#include "parallax/worldmodel/checkpoint.hpp"
#include "parallax/worldmodel/config.hpp"
#include "parallax/worldmodel/dream_batch.hpp"
#include "parallax/worldmodel/rssm.hpp"
#include "parallax/worldmodel/torch_setup.hpp"
#include "temp_dir.hpp"
#include "torch_catch.hpp"

namespace wm = parallax::worldmodel;
namespace fs = std::filesystem;

namespace {

wm::RSSM make_model(int h = 32, int w = 32, int a = 2, std::uint64_t seed = 1) {
  wm::init_torch_threads(1);
  torch::manual_seed(seed);
  wm::RSSM model(wm::make_preset("tiny", h, w, a));
  model->eval();
  return model;
}

double max_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kFloat) - b.to(torch::kFloat)).abs().max().item<double>();
}

fs::path temp_dir(const std::string& name) {
  return parallax::worldmodel::testing::temp_dir("rssm", name);
}
using parallax::worldmodel::testing::remove_tree;

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("presets have the documented sizes and survive JSON", "[worldmodel][config]") {
  auto c = wm::make_preset("tiny", 64, 64, 2);
  CHECK(c.deter == 128);
  CHECK(c.hidden == 128);
  CHECK(c.stoch_groups == 16);
  CHECK(c.stoch_classes == 16);
  CHECK(c.cnn_depth == 16);
  CHECK(c.cnn_stages == 4);  // 64 -> 32 -> 16 -> 8 -> 4
  CHECK(c.embed_size() == 128 * 4 * 4);
  auto s = wm::make_preset("small", 64, 64, 3);
  CHECK(s.deter == 512);
  CHECK(s.stoch_size() == 1024);
  auto b = wm::make_preset("base", 48, 64, 3);
  CHECK(b.deter == 1024);
  CHECK(b.hidden == 768);
  CHECK(b.cnn_stages == 3);  // 48x64 -> 6x8
  auto back = wm::ModelConfig::from_json_string(c.to_json_string());
  CHECK(back.to_json_string() == c.to_json_string());

  CHECK_THROWS_WITH(wm::make_preset("huge", 64, 64, 2), Catch::Contains("unknown model preset"));
  CHECK_THROWS_WITH(wm::make_preset("tiny", 10, 64, 2), Catch::Contains("16x16"));
  CHECK_THROWS_WITH(wm::ModelConfig::from_json_string("{\"preset\": \"tiny\"}", "x.pt"),
                    Catch::Contains("x.pt") && Catch::Contains("height"));
  CHECK_THROWS_WITH(wm::ModelConfig::from_json_string("not json", "x.pt"),
                    Catch::Contains("not valid JSON"));
}

TEST_CASE("observe + imagine on a batch equals one sample at a time", "[worldmodel][rssm]") {
  auto model = make_model();
  torch::NoGradGuard no_grad;
  const int64_t B = 3, T = 5, K = 4;
  torch::manual_seed(7);
  auto frames = torch::randint(0, 256, {B, T, 3, 32, 32}).to(torch::kByte);
  auto actions = torch::rand({B, T, 2}) * 2 - 1;
  auto future = torch::rand({B, K, 2}) * 2 - 1;

  auto post = model->observe(frames, actions, wm::Sampling::kMode);
  auto prior = model->imagine(post.last(), future, wm::Sampling::kMode);
  REQUIRE(post.deter.sizes() == torch::IntArrayRef({B, T, 128}));
  REQUIRE(post.stoch.sizes() == torch::IntArrayRef({B, T, 256}));
  REQUIRE(prior.prior_logits.sizes() == torch::IntArrayRef({B, K, 16, 16}));
  auto decoded = model->decode(prior);
  REQUIRE(decoded.sizes() == torch::IntArrayRef({B, K, 3, 32, 32}));
  CHECK(decoded.min().item<float>() >= 0.0f);
  CHECK(decoded.max().item<float>() <= 1.0f);
  auto reward = model->reward(prior);
  auto cont = model->cont(prior);
  REQUIRE(reward.sizes() == torch::IntArrayRef({B, K}));

  for (int64_t b = 0; b < B; ++b) {
    auto sl = [&](const torch::Tensor& t) { return t.slice(0, b, b + 1); };
    auto p1 = model->observe(sl(frames), sl(actions), wm::Sampling::kMode);
    auto i1 = model->imagine(p1.last(), sl(future), wm::Sampling::kMode);
    CHECK(max_diff(p1.deter, sl(post.deter)) < 1e-5);
    CHECK(max_diff(p1.stoch, sl(post.stoch)) < 1e-5);
    CHECK(max_diff(p1.post_logits, sl(post.post_logits)) < 1e-5);
    CHECK(max_diff(i1.deter, sl(prior.deter)) < 1e-5);
    CHECK(max_diff(i1.stoch, sl(prior.stoch)) < 1e-5);
    CHECK(max_diff(model->decode(i1), sl(decoded)) < 1e-5);
    CHECK(max_diff(model->reward(i1), sl(reward)) < 1e-5);
    CHECK(max_diff(model->cont(i1), sl(cont)) < 1e-5);
  }
  // The latent depends on the inputs (the comparison above is not vacuous).
  CHECK(max_diff(post.deter[0], post.deter[1]) > 1e-3);
}

TEST_CASE("loss terms are finite and the reward head starts at zero", "[worldmodel][rssm]") {
  auto model = make_model();
  model->train();
  torch::manual_seed(3);
  wm::Batch batch{torch::randint(0, 256, {2, 4, 3, 32, 32}).to(torch::kByte),
                  torch::rand({2, 4, 2}), torch::randn({2, 4}), torch::ones({2, 4})};
  auto loss = model->loss(batch);
  for (const auto& t : {loss.total, loss.recon, loss.reward, loss.cont, loss.kl_dyn, loss.kl_rep})
    CHECK(std::isfinite(t.item<double>()));
  // The reward head starts at zero: its loss is the mean of symlog(r)^2.
  CHECK(loss.reward.item<double>() ==
        Approx(wm::symlog(batch.rewards).square().mean().item<double>()).epsilon(1e-5));
  loss.total.backward();
  double grad_sq = 0;
  for (const auto& p : model->parameters())
    if (p.grad().defined()) grad_sq += p.grad().square().sum().item<double>();
  CHECK(grad_sq > 0);
}

namespace {

// Hand-computed categorical KL with 1% unimix, in double, independent of the model code:
// p = 0.99 softmax(post) + 0.01 / K, q = 0.99 softmax(prior) + 0.01 / K, KL = sum p log(p / q).
struct GroupKL {
  double kl = 0;
  std::vector<double> grad_prior;  // d KL / d prior logits (q uniform: -0.99 (p_j - 1/K))
  std::vector<double> grad_post;   // d KL / d post logits: 0.99 s_j (r_j - sum_i s_i r_i)
};

GroupKL hand_kl(const std::vector<double>& post, int K) {
  std::vector<double> s(K), p(K), r(K);
  double z = 0;
  for (int k = 0; k < K; ++k) z += std::exp(post[k]);
  for (int k = 0; k < K; ++k) {
    s[k] = std::exp(post[k]) / z;
    p[k] = 0.99 * s[k] + 0.01 / K;
  }
  GroupKL out;
  const double q = 1.0 / K;  // the prior: uniform logits
  for (int k = 0; k < K; ++k) {
    r[k] = std::log(p[k] / q);
    out.kl += p[k] * r[k];
  }
  double mean_r = 0;
  for (int k = 0; k < K; ++k) mean_r += s[k] * r[k];
  for (int k = 0; k < K; ++k) {
    out.grad_prior.push_back(-0.99 * (p[k] - q));
    out.grad_post.push_back(0.99 * s[k] * (r[k] - mean_r));
  }
  return out;
}

}  // namespace

TEST_CASE("KL with free bits and unimix matches a hand computation and routes its gradients",
          "[worldmodel][rssm]") {
  // The last layers of the prior and the posterior output constant logits (weights zero, bias
  // chosen): prior uniform, posterior of group g peaked at class g with logit `peak`.
  auto model = make_model();
  model->train();
  const auto& c = model->config();
  const int G = c.stoch_groups, K = c.stoch_classes;
  REQUIRE(c.unimix == 0.01f);
  REQUIRE(c.free_nats == 1.0f);
  auto params = model->named_parameters();
  auto set_logits = [&](double peak) {
    torch::NoGradGuard no_grad;
    params["prior.3.weight"].zero_();
    params["prior.3.bias"].zero_();
    params["posterior.3.weight"].zero_();
    auto bias = params["posterior.3.bias"];
    bias.zero_();
    for (int g = 0; g < G; ++g) bias[g * K + g] = peak;
  };
  torch::manual_seed(3);
  const wm::Batch batch{torch::randint(0, 256, {2, 1, 3, 32, 32}).to(torch::kByte),
                        torch::rand({2, 1, 2}), torch::randn({2, 1}), torch::ones({2, 1})};
  auto grad_of = [&](const std::string& name) {
    auto g = params[name].grad();
    return g.defined() ? g.clone() : torch::zeros_like(params[name]);
  };

  SECTION("above the free bits") {
    set_logits(3.0);
    std::vector<double> post(K, 0.0);
    post[0] = 3.0;
    const GroupKL h = hand_kl(post, K);  // the same for every group (a permutation)
    const double expect = G * h.kl;
    INFO("hand-computed KL " << expect << " nats");
    REQUIRE(expect > 2.0);
    auto loss = model->loss(batch);
    CHECK(loss.kl.item<double>() == Approx(expect).epsilon(1e-5));
    CHECK(loss.kl_dyn.item<double>() == Approx(expect).epsilon(1e-5));
    CHECK(loss.kl_rep.item<double>() == Approx(expect).epsilon(1e-5));

    // dyn: gradient to the prior only, equal to the hand-computed one.
    model->zero_grad();
    loss.kl_dyn.backward({}, /*retain_graph=*/true);
    auto gp = grad_of("prior.3.bias");
    for (int g = 0; g < G; ++g)
      for (int k = 0; k < K; ++k) {
        const int j = (k - g + K) % K;  // class k of group g is class j of the hand group
        CHECK(gp[g * K + k].item<double>() == Approx(h.grad_prior[j]).margin(1e-6));
      }
    CHECK(grad_of("posterior.3.bias").abs().max().item<double>() == 0.0);
    CHECK(grad_of("posterior.3.weight").abs().max().item<double>() == 0.0);
    CHECK(grad_of("posterior.0.weight").abs().max().item<double>() == 0.0);

    // rep: gradient to the posterior only, equal to the hand-computed one.
    model->zero_grad();
    loss.kl_rep.backward();
    auto gq = grad_of("posterior.3.bias");
    for (int g = 0; g < G; ++g)
      for (int k = 0; k < K; ++k) {
        const int j = (k - g + K) % K;
        CHECK(gq[g * K + k].item<double>() == Approx(h.grad_post[j]).margin(1e-6));
      }
    CHECK(grad_of("prior.3.bias").abs().max().item<double>() == 0.0);
    CHECK(grad_of("prior.3.weight").abs().max().item<double>() == 0.0);
    CHECK(grad_of("prior.0.weight").abs().max().item<double>() == 0.0);
  }

  SECTION("below the free bits") {
    set_logits(0.3);
    std::vector<double> post(K, 0.0);
    post[0] = 0.3;
    const double expect = G * hand_kl(post, K).kl;
    INFO("hand-computed KL " << expect << " nats");
    REQUIRE(expect < 0.5);
    auto loss = model->loss(batch);
    CHECK(loss.kl.item<double>() == Approx(expect).epsilon(1e-4));  // raw KL, for logging
    CHECK(loss.kl_dyn.item<double>() == 1.0);                       // clipped at 1 nat
    CHECK(loss.kl_rep.item<double>() == 1.0);
    model->zero_grad();
    (loss.kl_dyn + loss.kl_rep).backward();
    for (const char* name : {"prior.3.bias", "prior.3.weight", "posterior.3.bias"})
      CHECK(grad_of(name).abs().max().item<double>() == 0.0);  // nothing to learn below 1 nat
  }
}

TEST_CASE("symlog and symexp are inverse", "[worldmodel][rssm]") {
  auto x = torch::tensor({-100.0f, -1.0f, 0.0f, 0.5f, 20.0f});
  CHECK(max_diff(wm::symexp(wm::symlog(x)), x) < 1e-4);
  CHECK(wm::symlog(torch::tensor({std::exp(1.0f) - 1.0f})).item<float>() == Approx(1.0f));
}

TEST_CASE("DreamBatch tick equals RSSM imagine for the same inputs", "[worldmodel][dream]") {
  auto model = make_model();
  torch::NoGradGuard no_grad;
  const int cap = 4, C = 3, K = 5;
  torch::manual_seed(11);
  auto ctx0 = torch::randint(0, 256, {C, 3, 32, 32}).to(torch::kByte);
  auto ctx2 = torch::randint(0, 256, {C, 3, 32, 32}).to(torch::kByte);
  auto act0 = torch::rand({C, 2});
  auto act2 = torch::rand({C, 2});
  auto future = torch::rand({K, cap, 2}) * 2 - 1;  // [K, capacity, A]

  wm::DreamBatch dream(model, cap, torch::kCPU);
  dream.set_sampling(wm::Sampling::kMode);
  dream.reset(0, ctx0, act0);
  dream.reset(2, ctx2, act2);
  dream.fork(0, {3});
  CHECK(dream.is_open(0));
  CHECK_FALSE(dream.is_open(1));
  CHECK(dream.num_open() == 3);
  for (int k = 0; k < K; ++k) dream.tick(future[k]);

  auto expect = [&](const torch::Tensor& ctx, const torch::Tensor& act, int slot) {
    auto post = model->observe(ctx.unsqueeze(0), act.unsqueeze(0), wm::Sampling::kMode);
    auto acts = future.select(1, slot).unsqueeze(0);  // [1, K, A]
    return model->imagine(post.last(), acts, wm::Sampling::kMode);
  };
  const std::pair<int, std::pair<torch::Tensor, torch::Tensor>> cases[] = {
      {0, {ctx0, act0}}, {2, {ctx2, act2}}, {3, {ctx0, act0}}};
  auto frames = dream.frames();
  auto reward = dream.reward();
  auto cont = dream.cont();
  REQUIRE(frames.sizes() == torch::IntArrayRef({cap, 3, 32, 32}));
  REQUIRE(frames.scalar_type() == torch::kByte);
  for (const auto& [slot, ctx] : cases) {
    auto im = expect(ctx.first, ctx.second, slot);
    auto last = im.last();
    CHECK(max_diff(dream.state()[0][slot], last.deter[0]) < 1e-5);
    CHECK(max_diff(dream.state()[1][slot], last.stoch[0]) < 1e-5);
    auto dec = model->decode(im).select(1, K - 1)[0];  // [3, H, W] in [0,1]
    CHECK(max_diff(frames[slot], (dec * 255.0f).round()) <= 1.0);
    CHECK(reward[slot].item<float>() ==
          Approx(model->reward(im)[0][K - 1].item<float>()).margin(1e-5));
    CHECK(cont[slot].item<float>() == Approx(model->cont(im)[0][K - 1].item<float>()).margin(1e-5));
  }
  // Closed slot: untouched zeros.
  CHECK(dream.state()[0][1].abs().sum().item<float>() == 0.0f);
  CHECK(frames[1].sum().item<int64_t>() == 0);
  CHECK(dream.ticks() == K);
}

TEST_CASE("DreamBatch observe resyncs to the posterior", "[worldmodel][dream]") {
  auto model = make_model();
  torch::NoGradGuard no_grad;
  torch::manual_seed(5);
  auto frames = torch::randint(0, 256, {4, 3, 32, 32}).to(torch::kByte);  // context + 1
  auto actions = torch::rand({4, 2});
  wm::DreamBatch dream(model, 2, torch::kCPU);
  dream.set_sampling(wm::Sampling::kMode);
  dream.reset(0, frames.slice(0, 0, 3), actions.slice(0, 0, 3));
  dream.reset(1, frames.slice(0, 0, 3), actions.slice(0, 0, 3));
  dream.tick(torch::stack({actions[3], actions[3]}));
  auto before = dream.state()[1].clone();
  auto truth = torch::stack({frames[3], frames[3]});
  dream.observe(truth, torch::tensor({true, false}));
  auto post = model->observe(frames.unsqueeze(0), actions.unsqueeze(0), wm::Sampling::kMode);
  CHECK(max_diff(dream.state()[0][0], post.last().deter[0]) < 1e-5);
  CHECK(max_diff(dream.state()[1][0], post.last().stoch[0]) < 1e-5);
  CHECK(max_diff(dream.state()[1][1], before[1]) == 0.0);  // unmasked: prior kept
}

TEST_CASE("DreamBatch sampled forks diverge and misuse is reported", "[worldmodel][dream]") {
  auto model = make_model();
  torch::manual_seed(2);
  wm::DreamBatch dream(model, 8, torch::kCPU);
  dream.set_sampling(wm::Sampling::kSample, 123);
  dream.reset(0, torch::randint(0, 256, {2, 3, 32, 32}).to(torch::kByte), torch::zeros({2, 2}));
  dream.fork(0, {1, 2, 3, 4, 5, 6, 7});
  for (int k = 0; k < 3; ++k) dream.tick(torch::zeros({8, 2}));
  auto stoch = dream.state()[1];
  int distinct = 0;
  for (int i = 1; i < 8; ++i) distinct += torch::equal(stoch[i], stoch[0]) ? 0 : 1;
  CHECK(distinct > 0);

  CHECK_THROWS_WITH(dream.tick(torch::zeros({7, 2})), Catch::Contains("capacity = 8"));
  CHECK_THROWS_WITH(
      dream.reset(8, torch::zeros({1, 3, 32, 32}, torch::kByte), torch::zeros({1, 2})),
      Catch::Contains("out of range"));
  dream.close(3);
  CHECK_THROWS_WITH(dream.fork(3, {4}), Catch::Contains("not open"));
}

TEST_CASE("checkpoint save/load is bit-identical", "[worldmodel][checkpoint]") {
  auto model = make_model(32, 32, 3, 9);
  auto dir = temp_dir("roundtrip");
  auto path = dir / "m.pt";
  wm::save_checkpoint(path, model, model->config());
  auto loaded = wm::load_checkpoint(path, torch::kCPU);
  CHECK(loaded.config.to_json_string() == model->config().to_json_string());
  auto a = model->named_parameters(true);
  auto b = loaded.model->named_parameters(true);
  REQUIRE(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    CHECK(a[i].key() == b[i].key());
    CHECK(torch::equal(a[i].value(), b[i].value()));
  }
  // Same outputs, bit for bit.
  torch::NoGradGuard no_grad;
  torch::manual_seed(4);
  auto frames = torch::randint(0, 256, {1, 3, 3, 32, 32}).to(torch::kByte);
  auto actions = torch::rand({1, 3, 3});
  auto s1 = model->observe(frames, actions, wm::Sampling::kMode);
  auto s2 = loaded.model->observe(frames, actions, wm::Sampling::kMode);
  CHECK(torch::equal(model->decode(s1), loaded.model->decode(s2)));
  // No temporary file left behind.
  int files = 0;
  for (const auto& e : fs::directory_iterator(dir)) files += e.is_regular_file() ? 1 : 0;
  CHECK(files == 1);
  remove_tree(dir);
}

TEST_CASE("bad checkpoints fail with clear errors", "[worldmodel][checkpoint]") {
  auto model = make_model();
  auto dir = temp_dir("bad");
  auto good = dir / "good.pt";
  wm::save_checkpoint(good, model, model->config());
  const auto size = fs::file_size(good);

  auto message = [](const fs::path& p) -> std::string {
    try {
      wm::load_checkpoint(p);
    } catch (const std::runtime_error& e) {
      return e.what();
    }
    return "(no error)";
  };

  CHECK(contains(message(dir / "missing.pt"), "does not exist"));

  auto truncated = dir / "truncated.pt";
  fs::copy_file(good, truncated);
  fs::resize_file(truncated, size / 2);
  auto m = message(truncated);
  CHECK(contains(m, "truncated.pt"));
  CHECK(contains(m, "not a readable checkpoint"));

  // Garbage bytes inside the weights: the archive opens (zip records are stored, and the reader
  // does not check their CRC), so only the checkpoint's own checksum can catch it. The bytes to
  // overwrite are found by content: 64 bytes from the middle of the largest weight.
  auto corrupt = dir / "damaged.pt";
  fs::copy_file(good, corrupt);
  {
    torch::Tensor largest;
    for (const auto& p : model->parameters())
      if (!largest.defined() || p.numel() > largest.numel()) largest = p.detach().contiguous();
    const auto* w = static_cast<const char*>(largest.data_ptr());
    const std::string needle(w + largest.nbytes() / 2, 64);
    std::string bytes(size, '\0');
    std::ifstream(corrupt, std::ios::binary).read(bytes.data(), static_cast<std::streamsize>(size));
    const auto at = bytes.find(needle);
    REQUIRE(at != std::string::npos);
    REQUIRE(bytes.find(needle, at + 1) == std::string::npos);
    std::fstream f(corrupt, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(at));
    std::string junk(64, '\x5a');
    REQUIRE(junk != needle);
    f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
  }
  m = message(corrupt);
  INFO(m);
  CHECK(contains(m, "damaged.pt"));
  CHECK(contains(m, "weights do not match their checksum (corrupt file)"));

  auto text = dir / "text.pt";
  std::ofstream(text) << "hello";
  CHECK(contains(message(text), "not a readable checkpoint"));

  // A torch archive that is not ours.
  auto foreign = dir / "foreign.pt";
  torch::serialize::OutputArchive archive;
  archive.write("x", torch::ones({2}));
  archive.save_to(foreign.string());
  CHECK(contains(message(foreign), "not a Parallax world model checkpoint"));

  // Sizes that do not match a dataset.
  auto loaded = wm::load_checkpoint(good);
  CHECK_NOTHROW(wm::check_compatible(loaded.config, 32, 32, 2, "m.pt", "data/"));
  CHECK_THROWS_WITH(
      wm::check_compatible(loaded.config, 64, 64, 2, "m.pt", "dataset 'data/'"),
      Catch::Contains("32x32") && Catch::Contains("64x64") && Catch::Contains("dataset 'data/'"));

  // Unwritable destination.
  CHECK_THROWS_WITH(wm::save_checkpoint(dir / "no" / "such" / "m.pt", model, model->config()),
                    Catch::Contains("does not exist"));
  remove_tree(dir);
}

TEST_CASE("DreamBatch sampling is reproducible for a seed", "[worldmodel][dream]") {
  auto model = make_model();
  torch::manual_seed(8);
  auto ctx = torch::randint(0, 256, {2, 3, 32, 32}).to(torch::kByte);
  auto actions = torch::rand({5, 4, 2});
  auto run = [&](std::uint64_t seed) {
    wm::DreamBatch dream(model, 4, torch::kCPU);
    dream.set_sampling(wm::Sampling::kSample, seed);
    dream.reset(0, ctx, torch::zeros({2, 2}));
    dream.fork(0, {1, 2, 3});
    (void)torch::rand({10});  // the global generator is not used
    for (int k = 0; k < 5; ++k) dream.tick(actions[k]);
    return dream.state()[1].clone();
  };
  auto a = run(3), b = run(3), c = run(4);
  CHECK(torch::equal(a, b));
  CHECK_FALSE(torch::equal(a, c));
}

TEST_CASE("a SIGKILL during a checkpoint save leaves the previous checkpoint loadable",
          "[worldmodel][checkpoint][crash]") {
  // A child process saves over the same file in a loop, each version with all weights set to
  // its number k = 1, 2, ...; it is killed while a save is under way (its temporary file
  // exists). The file must then load, be complete (its checksum holds) and be one whole version:
  // the parent's original weights or every weight equal to one k.
  auto model = make_model(64, 64, 2, 12);  // 64x64: each save takes a few milliseconds
  auto dir = temp_dir("kill");
  const auto path = dir / "m.pt";
  wm::save_checkpoint(path, model, model->config());
  const auto original = wm::load_checkpoint(path);
  std::mt19937 rng(7);
  int mid_save = 0, versions_seen = 0;
  for (int round = 0; round < 6; ++round) {
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      try {
        torch::NoGradGuard no_grad;
        for (int k = 1;; ++k) {
          for (auto& p : model->parameters()) p.fill_(static_cast<float>(round * 100000 + k));
          wm::save_checkpoint(path, model, model->config());
        }
      } catch (...) {
        ::_exit(3);
      }
    }
    const auto tmp = dir / (".m.pt.tmp." + std::to_string(static_cast<long>(pid)));
    // Let it complete a random number of saves, then kill it as soon as a save is under way.
    std::this_thread::sleep_for(
        std::chrono::milliseconds(std::uniform_int_distribution<int>(5, 120)(rng)));
    // Wait for a save to be under way by the clock, not by a spin count: on a loaded machine the
    // child may take long to start its next save (a count ran out first and the kill missed).
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!fs::exists(tmp) && std::chrono::steady_clock::now() < deadline) {
    }
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    REQUIRE(WIFSIGNALED(status));  // still saving when killed (exit 3: the save failed)
    mid_save += fs::exists(tmp) ? 1 : 0;
    if (fs::exists(tmp)) fs::remove(tmp);
    wm::LoadedModel loaded;
    REQUIRE_NOTHROW(loaded = wm::load_checkpoint(path));
    // One whole version: the original, or a single value in every weight.
    auto params = loaded.model->parameters();
    const float v = params.front().flatten()[0].item<float>();
    bool uniform = true;
    for (const auto& p : params) uniform = uniform && (p == v).all().item<bool>();
    const bool is_original = torch::equal(params.front(), original.model->parameters().front());
    INFO("round " << round << ": first weight " << v);
    CHECK((uniform || is_original));
    if (uniform && !is_original) ++versions_seen;
  }
  CHECK(mid_save >= 3);       // the kills did land inside saves
  CHECK(versions_seen >= 1);  // and the child did replace the file in between
  remove_tree(dir);
}
