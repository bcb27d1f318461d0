// DreamBatch: fixed-capacity batched imagination on one device.
#include "parallax/worldmodel/dream_batch.hpp"

#include <stdexcept>
#include <string>

// CUDA graphs need the CUDA runtime headers (present wherever LibTorch was found with CUDA).
#if __has_include(<ATen/cuda/CUDAGraph.h>) && __has_include(<cuda_runtime_api.h>)
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#define PARALLAX_WM_CUDA_GRAPH 1
#else
#define PARALLAX_WM_CUDA_GRAPH 0
#endif

namespace parallax::worldmodel {

#if PARALLAX_WM_CUDA_GRAPH
struct DreamBatch::Graph {
  at::cuda::CUDAGraph graph;
  bool captured = false;
};
#else
struct DreamBatch::Graph {};
#endif

namespace {

// Misuse of the API by the caller: always checked (also in release builds), one clear line.
void require(bool ok, const std::string& message) {
  if (!ok) throw std::logic_error("DreamBatch: " + message);
}

}  // namespace

DreamBatch::DreamBatch(RSSM model, int capacity, torch::Device device)
    : model_(std::move(model)), capacity_(capacity), device_(device) {
  require(!model_.is_empty(), "constructed with an empty model");
  require(capacity > 0, "capacity must be > 0, got " + std::to_string(capacity));
  model_->to(device_);
  model_->eval();
  const auto& c = model_->config();
  auto f32 = torch::TensorOptions().dtype(torch::kFloat).device(device_);
  deter_ = torch::zeros({capacity, c.deter}, f32);
  stoch_ = torch::zeros({capacity, c.stoch_size()}, f32);
  open_ = torch::zeros({capacity}, f32.dtype(torch::kBool));
  open_host_.assign(capacity, 0);
  actions_ = torch::zeros({capacity, c.action_size}, f32);
  set_sampling(Sampling::kSample, 0);
}

DreamBatch::~DreamBatch() = default;
DreamBatch::DreamBatch(DreamBatch&&) noexcept = default;
DreamBatch& DreamBatch::operator=(DreamBatch&&) noexcept = default;

bool DreamBatch::use_cuda_graph(bool enable) {
  want_graph_ = enable && PARALLAX_WM_CUDA_GRAPH && device_.is_cuda();
  graph_.reset();
  return want_graph_;
}

void DreamBatch::set_sampling(Sampling sampling, std::uint64_t seed) {
  graph_.reset();  // a captured graph holds the old generator and sampling mode
  sampling_ = sampling;
  // A private generator of the device's kind (a clone of the default one, then reseeded).
  generator_ = at::globalContext().defaultGenerator(device_).clone();
  std::lock_guard<std::mutex> lock(generator_->mutex());
  generator_->set_current_seed(seed);
}

void DreamBatch::check_slot(int slot, const char* what) const {
  require(slot >= 0 && slot < capacity_, std::string(what) + ": slot " + std::to_string(slot) +
                                             " out of range [0, " + std::to_string(capacity_) +
                                             ")");
}

bool DreamBatch::is_open(int slot) const {
  check_slot(slot, "is_open");
  return open_host_[slot] != 0;
}

int DreamBatch::num_open() const {
  int n = 0;
  for (char o : open_host_) n += o ? 1 : 0;
  return n;
}

void DreamBatch::reset(int slot, const torch::Tensor& frames, const torch::Tensor& actions) {
  check_slot(slot, "reset");
  const auto& c = model_->config();
  require(frames.dim() == 4 && frames.size(0) >= 1 && frames.size(1) == c.channels &&
              frames.size(2) == c.height && frames.size(3) == c.width,
          "reset: frames must be [C >= 1, 3, " + std::to_string(c.height) + ", " +
              std::to_string(c.width) + "]");
  require(
      actions.dim() == 2 && actions.size(0) == frames.size(0) && actions.size(1) == c.action_size,
      "reset: actions must be [C, " + std::to_string(c.action_size) +
          "] with C = the number of context frames");
  torch::NoGradGuard no_grad;
  States states = model_->observe(frames.to(device_).unsqueeze(0),
                                  actions.to(device_, torch::kFloat).unsqueeze(0), sampling_,
                                  std::nullopt, generator_);
  State last = states.last();  // [1, ...]
  deter_[slot].copy_(last.deter[0]);
  stoch_[slot].copy_(last.stoch[0]);
  open_[slot].fill_(true);
  open_host_[slot] = 1;
}

void DreamBatch::fork(int src_slot, const std::vector<int>& dst_slots) {
  check_slot(src_slot, "fork");
  require(open_host_[src_slot] != 0,
          "fork: source slot " + std::to_string(src_slot) + " is not open");
  if (dst_slots.empty()) return;
  for (int d : dst_slots) check_slot(d, "fork");
  torch::NoGradGuard no_grad;
  auto index = torch::tensor(std::vector<int64_t>(dst_slots.begin(), dst_slots.end()),
                             torch::TensorOptions().dtype(torch::kLong))
                   .to(device_);
  const auto n = static_cast<int64_t>(dst_slots.size());
  deter_.index_copy_(0, index, deter_[src_slot].unsqueeze(0).expand({n, -1}).clone());
  stoch_.index_copy_(0, index, stoch_[src_slot].unsqueeze(0).expand({n, -1}).clone());
  open_.index_fill_(0, index, true);
  for (int d : dst_slots) open_host_[d] = 1;
}

void DreamBatch::close(int slot) {
  check_slot(slot, "close");
  torch::NoGradGuard no_grad;
  open_[slot].fill_(false);
  deter_[slot].zero_();
  stoch_[slot].zero_();
  open_host_[slot] = 0;
}

void DreamBatch::tick_body() {
  // Every row is stepped (a fixed-shape batch); closed rows keep their state. All inputs and
  // outputs are the preallocated tensors, updated in place: a captured graph sees every change.
  State next = model_->img_step({deter_, stoch_}, actions_, sampling_, generator_);
  auto open = open_.unsqueeze(1);  // [capacity, 1]
  deter_.copy_(torch::where(open, next.deter, deter_));
  stoch_.copy_(torch::where(open, next.stoch, stoch_));
}

void DreamBatch::tick(const torch::Tensor& actions) {
  const auto& c = model_->config();
  require(actions.dim() == 2 && actions.size(0) == capacity_ && actions.size(1) == c.action_size,
          "tick: actions must be [capacity = " + std::to_string(capacity_) + ", " +
              std::to_string(c.action_size) + "]");
  torch::NoGradGuard no_grad;
  actions_.copy_(actions);
#if PARALLAX_WM_CUDA_GRAPH
  if (want_graph_) {
    if (!graph_) {
      graph_ = std::make_unique<Graph>();
      // Warm up on a side stream (library handles, allocator), then capture there; the state
      // is restored after the warm-up so that this tick still advances it exactly once.
      // Thread-local capture mode: CUDA work of other threads (the renderer) is not disturbed.
      auto saved_deter = deter_.clone(), saved_stoch = stoch_.clone();
      torch::cuda::synchronize();
      auto side = c10::cuda::getStreamFromPool(false, device_.index());
      try {
        c10::cuda::CUDAStreamGuard on_side(side);
        for (int i = 0; i < 2; ++i) tick_body();
        deter_.copy_(saved_deter);
        stoch_.copy_(saved_stoch);
        side.synchronize();
        if (generator_ && sampling_ == Sampling::kSample) {
          graph_->graph.register_generator_state(*generator_);
        }
        graph_->graph.capture_begin({0, 0}, cudaStreamCaptureModeThreadLocal);
        tick_body();
        graph_->graph.capture_end();
      } catch (...) {
        graph_.reset();
        want_graph_ = false;  // eager from now on; the caller sees the error once
        deter_.copy_(saved_deter);
        stoch_.copy_(saved_stoch);
        throw;
      }
      torch::cuda::synchronize();
      graph_->captured = true;
    }
    graph_->graph.replay();
    ++ticks_;
    return;
  }
#endif
  tick_body();
  ++ticks_;
}

void DreamBatch::observe(const torch::Tensor& frames, const torch::Tensor& mask) {
  const auto& c = model_->config();
  require(frames.dim() == 4 && frames.size(0) == capacity_ && frames.size(1) == c.channels &&
              frames.size(2) == c.height && frames.size(3) == c.width,
          "observe: frames must be [capacity, 3, H, W] with the model's frame size");
  require(mask.dim() == 1 && mask.size(0) == capacity_, "observe: mask must be [capacity]");
  torch::NoGradGuard no_grad;
  auto embed = model_->embed(frames.to(device_).unsqueeze(1)).squeeze(1);  // [capacity, E]
  State post = model_->obs_step({deter_, stoch_}, embed, sampling_, generator_);
  auto m = (mask.to(device_, torch::kBool) & open_).unsqueeze(1);  // [capacity, 1]
  stoch_.copy_(torch::where(m, post.stoch, stoch_));
}

torch::Tensor DreamBatch::features() const {
  return torch::cat({deter_, stoch_}, -1);
}

torch::Tensor DreamBatch::frames() {
  torch::NoGradGuard no_grad;
  auto x = model_->decode_features(features()).to(torch::kFloat);  // [capacity, 3, H, W]
  x = ((x + 0.5f).clamp(0.0f, 1.0f) * 255.0f).round();
  x = x * open_.view({capacity_, 1, 1, 1});
  return x.to(torch::kByte).to(torch::kCPU);
}

torch::Tensor DreamBatch::reward() {
  torch::NoGradGuard no_grad;
  auto r = symexp(model_->reward_features(features()).to(torch::kFloat));  // [capacity]
  return (r * open_).to(torch::kCPU);
}

torch::Tensor DreamBatch::cont() {
  torch::NoGradGuard no_grad;
  auto p = torch::sigmoid(model_->cont_features(features()).to(torch::kFloat));  // [capacity]
  return (p * open_).to(torch::kCPU);
}

}  // namespace parallax::worldmodel
