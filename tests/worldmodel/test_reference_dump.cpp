// The C++ half of the RSSM's independent reference (tests/python/rssm_reference.py, run by the
// ctest entry "worldmodel: RSSM matches an independent PyTorch reference"): dumps the weights, the
// inputs, the torch CPU generator state and every result of the library (posterior and prior
// logits, latents, heads, loss terms, gradients, two Adam steps) into one file that Python's
// torch.load reads. Hidden ([.reference]): it checks nothing by itself and runs only from that
// entry, with PARALLAX_REFERENCE_OUT naming the file to write.
#include <cstdlib>
#include <fstream>
#include <string>

#include "parallax/worldmodel/config.hpp"
#include "parallax/worldmodel/rssm.hpp"
#include "parallax/worldmodel/torch_setup.hpp"
#include "torch_catch.hpp"

namespace wm = parallax::worldmodel;

namespace {

torch::Tensor rng_state() {
  return at::globalContext().defaultGenerator(torch::kCPU).get_state();
}

void set_rng_state(const torch::Tensor& s) {
  auto gen = at::globalContext().defaultGenerator(torch::kCPU);
  std::lock_guard<std::mutex> lock(gen.mutex());
  gen.set_state(s);
}

}  // namespace

TEST_CASE("RSSM reference dump for the PyTorch reference", "[worldmodel][.reference]") {
  const char* out = std::getenv("PARALLAX_REFERENCE_OUT");
  REQUIRE(out != nullptr);
  wm::init_torch_threads(1);
  torch::manual_seed(17);
  // 16x16 frames: two conv stages. Every part of the tiny preset is there, only smaller frames.
  wm::RSSM model(wm::make_preset("tiny", 16, 16, 2));
  model->train();
  c10::Dict<std::string, at::Tensor> d;
  auto params = model->named_parameters();
  {
    // The reward head's output layer starts at zero; give it weights so that its gradient path
    // (and the reward features' path into the latents) is exercised too.
    torch::NoGradGuard no_grad;
    params["reward_head.3.weight"].normal_(0.0, 0.1);
    params["reward_head.3.bias"].fill_(0.05);
  }
  for (const auto& p : params) d.insert("param/" + p.key(), p.value().detach().clone());
  const std::string config = model->config().to_json_string();
  d.insert("config", torch::tensor(std::vector<std::uint8_t>(config.begin(), config.end())));

  const int64_t B = 2, T = 3, K = 4;
  torch::manual_seed(5);
  wm::Batch batch{torch::randint(0, 256, {B, T, 3, 16, 16}).to(torch::kByte),
                  torch::rand({B, T, 2}) * 2 - 1, torch::randn({B, T}) * 3, torch::ones({B, T})};
  batch.conts[1][2] = 0.0f;
  const auto future = torch::rand({B, K, 2}) * 2 - 1;
  d.insert("in/frames", batch.frames);
  d.insert("in/actions", batch.actions);
  d.insert("in/rewards", batch.rewards);
  d.insert("in/conts", batch.conts);
  d.insert("in/future", future);

  // Sampled posterior (as in loss(), which starts with the same observe call): the generator
  // state before it lets the reference draw the same Gumbel noise.
  const auto state0 = rng_state().clone();
  d.insert("rng/loss1", state0);
  {
    torch::NoGradGuard no_grad;
    auto s = model->observe(batch.frames, batch.actions, wm::Sampling::kSample);
    d.insert("out/sample/deter", s.deter);
    d.insert("out/sample/stoch", s.stoch);
    d.insert("out/sample/prior_logits", s.prior_logits);
    d.insert("out/sample/post_logits", s.post_logits);
  }
  set_rng_state(state0);
  auto loss = model->loss(batch);
  d.insert("out/loss/total", loss.total.detach());
  d.insert("out/loss/recon", loss.recon.detach());
  d.insert("out/loss/reward", loss.reward.detach());
  d.insert("out/loss/cont", loss.cont.detach());
  d.insert("out/loss/kl_dyn", loss.kl_dyn.detach());
  d.insert("out/loss/kl_rep", loss.kl_rep.detach());
  d.insert("out/loss/kl", loss.kl.detach());
  model->zero_grad();
  loss.total.backward();
  for (const auto& p : params)
    if (p.value().grad().defined()) d.insert("grad1/" + p.key(), p.value().grad().clone());

  // Deterministic paths: observe and imagine in mode, the heads and the decoder.
  {
    torch::NoGradGuard no_grad;
    auto post = model->observe(batch.frames, batch.actions, wm::Sampling::kMode);
    auto prior = model->imagine(post.last(), future, wm::Sampling::kMode);
    d.insert("out/mode/embed", model->embed(batch.frames));
    d.insert("out/mode/post_deter", post.deter);
    d.insert("out/mode/post_stoch", post.stoch);
    d.insert("out/mode/post_logits", post.post_logits);
    d.insert("out/mode/prior_logits", post.prior_logits);
    d.insert("out/mode/img_deter", prior.deter);
    d.insert("out/mode/img_stoch", prior.stoch);
    d.insert("out/mode/img_logits", prior.prior_logits);
    d.insert("out/mode/decode", model->decode(prior));
    d.insert("out/mode/reward", model->reward(prior));
    d.insert("out/mode/cont", model->cont(prior));
  }

  // Two Adam steps (the trainer's optimiser, lr 1e-3, eps 1e-8): the first on these gradients,
  // the second on a new loss of the updated model.
  torch::optim::Adam adam(model->parameters(), torch::optim::AdamOptions(1e-3).eps(1e-8));
  adam.step();
  for (const auto& p : params) d.insert("adam1/" + p.key(), p.value().detach().clone());
  d.insert("rng/loss2", rng_state().clone());
  model->zero_grad();
  auto loss2 = model->loss(batch);
  d.insert("out/loss2/total", loss2.total.detach());
  loss2.total.backward();
  for (const auto& p : params)
    if (p.value().grad().defined()) d.insert("grad2/" + p.key(), p.value().grad().clone());
  adam.step();
  for (const auto& p : params) d.insert("adam2/" + p.key(), p.value().detach().clone());

  const std::vector<char> bytes = torch::pickle_save(c10::IValue(d));
  std::ofstream f(out, std::ios::binary);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  REQUIRE(f.good());
}
