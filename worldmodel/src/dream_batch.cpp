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

// Rows of `mask` [capacity] bool shaped to broadcast against a [capacity, ...] tensor.
torch::Tensor row_mask(const torch::Tensor& mask, const torch::Tensor& like) {
  std::vector<int64_t> shape(like.dim(), 1);
  shape[0] = like.size(0);
  return mask.view(shape);
}

}  // namespace

DreamBatch::DreamBatch(RSSM model, int capacity, torch::Device device)
    : DreamBatch(make_rssm_world_model(std::move(model)), capacity, device) {}

DreamBatch::DreamBatch(std::shared_ptr<WorldModel> model, int capacity, torch::Device device)
    : model_(std::move(model)), capacity_(capacity), device_(device) {
  require(model_ != nullptr, "constructed with an empty model");
  require(capacity > 0, "capacity must be > 0, got " + std::to_string(capacity));
  model_->module().to(device_);
  model_->module().eval();
  auto f32 = torch::TensorOptions().dtype(torch::kFloat).device(device_);
  state_ = model_->initial_state(capacity, device_);
  open_ = torch::zeros({capacity}, f32.dtype(torch::kBool));
  open_host_.assign(capacity, 0);
  actions_ = torch::zeros({capacity, model_->info().action_size}, f32);
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

void DreamBatch::set_precision(Precision precision) {
  graph_.reset();
  precision_ = precision;
  if (precision == Precision::kBF16) use_channels_last(model_->module());
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
  const auto& info = model_->info();
  require(frames.dim() == 4 && frames.size(0) >= 1 && frames.size(1) == 3 &&
              frames.size(2) == info.height && frames.size(3) == info.width,
          "reset: frames must be [C >= 1, 3, " + std::to_string(info.height) + ", " +
              std::to_string(info.width) + "]");
  require(actions.dim() == 2 && actions.size(0) == frames.size(0) &&
              actions.size(1) == info.action_size,
          "reset: actions must be [C, " + std::to_string(info.action_size) +
              "] with C = the number of context frames");
  torch::NoGradGuard no_grad;
  AutocastGuard autocast(device_, precision_);
  const StepContext ctx{sampling_, &generator_};
  SlotState s = model_->encode_context(frames.to(device_).unsqueeze(0),
                                       actions.to(device_, torch::kFloat).unsqueeze(0), ctx);
  for (std::size_t i = 0; i < state_.size(); ++i) state_[i][slot].copy_(s[i][0]);
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
  for (auto& t : state_) {
    std::vector<int64_t> shape = t.sizes().vec();
    shape[0] = n;
    t.index_copy_(0, index, t[src_slot].unsqueeze(0).expand(shape).clone());
  }
  open_.index_fill_(0, index, true);
  for (int d : dst_slots) open_host_[d] = 1;
}

void DreamBatch::close(int slot) {
  check_slot(slot, "close");
  torch::NoGradGuard no_grad;
  open_[slot].fill_(false);
  for (auto& t : state_) t[slot].zero_();
  open_host_[slot] = 0;
}

void DreamBatch::write_rows(const SlotState& next, const torch::Tensor& rows) {
  // Merge every tensor before writing any: a family's next state may alias its current one (the
  // latent family's z_{t-1} is its z_t).
  std::vector<torch::Tensor> merged(state_.size());
  for (std::size_t i = 0; i < state_.size(); ++i) {
    // A family may pass a state tensor through unchanged (the latent family's observed frame):
    // nothing to write, and at K = 1024 slots skipping it saves most of a latent tick.
    if (next[i].is_same(state_[i])) continue;
    merged[i] = torch::where(row_mask(rows, state_[i]), next[i], state_[i]);
  }
  for (std::size_t i = 0; i < state_.size(); ++i)
    if (merged[i].defined()) state_[i].copy_(merged[i]);
}

void DreamBatch::tick_body() {
  // Every row is stepped (a fixed-shape batch); closed rows keep their state. All inputs and
  // outputs are the preallocated tensors, updated in place: a captured graph sees every change.
  AutocastGuard autocast(device_, precision_);
  const StepContext ctx{sampling_, &generator_};
  write_rows(model_->step(state_, actions_, ctx), open_);
}

void DreamBatch::tick(const torch::Tensor& actions) {
  const int a = model_->info().action_size;
  require(actions.dim() == 2 && actions.size(0) == capacity_ && actions.size(1) == a,
          "tick: actions must be [capacity = " + std::to_string(capacity_) + ", " +
              std::to_string(a) + "]");
  torch::NoGradGuard no_grad;
  actions_.copy_(actions);
#if PARALLAX_WM_CUDA_GRAPH
  if (want_graph_) {
    if (!graph_) {
      graph_ = std::make_unique<Graph>();
      // Warm up on a side stream (library handles, allocator), then capture there; the state
      // is restored after the warm-up so that this tick still advances it exactly once.
      // Thread-local capture mode: CUDA work of other threads (the renderer) is not disturbed.
      SlotState saved;
      for (const auto& t : state_) saved.push_back(t.clone());
      torch::cuda::synchronize();
      auto side = c10::cuda::getStreamFromPool(false, device_.index());
      try {
        c10::cuda::CUDAStreamGuard on_side(side);
        for (int i = 0; i < 2; ++i) tick_body();
        for (std::size_t i = 0; i < state_.size(); ++i) state_[i].copy_(saved[i]);
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
        for (std::size_t i = 0; i < state_.size(); ++i) state_[i].copy_(saved[i]);
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
  const auto& info = model_->info();
  require(frames.dim() == 4 && frames.size(0) == capacity_ && frames.size(1) == 3 &&
              frames.size(2) == info.height && frames.size(3) == info.width,
          "observe: frames must be [capacity, 3, H, W] with the model's frame size");
  require(mask.dim() == 1 && mask.size(0) == capacity_, "observe: mask must be [capacity]");
  torch::NoGradGuard no_grad;
  AutocastGuard autocast(device_, precision_);
  const StepContext ctx{sampling_, &generator_};
  write_rows(model_->observe(state_, frames.to(device_), ctx),
             mask.to(device_, torch::kBool) & open_);
}

torch::Tensor DreamBatch::frames() {
  torch::NoGradGuard no_grad;
  AutocastGuard autocast(device_, precision_);
  auto x = (model_->decode(state_).to(torch::kFloat).clamp(0.0f, 1.0f) * 255.0f).round();
  x = x * open_.view({capacity_, 1, 1, 1});
  return x.to(torch::kByte).to(torch::kCPU);
}

torch::Tensor DreamBatch::reward() {
  torch::NoGradGuard no_grad;
  AutocastGuard autocast(device_, precision_);
  return (model_->reward(state_).to(torch::kFloat) * open_).to(torch::kCPU);
}

torch::Tensor DreamBatch::cont() {
  torch::NoGradGuard no_grad;
  AutocastGuard autocast(device_, precision_);
  return (model_->cont(state_).to(torch::kFloat) * open_).to(torch::kCPU);
}

torch::Tensor DreamBatch::value() {
  torch::NoGradGuard no_grad;
  AutocastGuard autocast(device_, precision_);
  return (model_->value(state_).to(torch::kFloat) * open_).to(torch::kCPU);
}

torch::Tensor DreamBatch::poses() {
  torch::NoGradGuard no_grad;
  AutocastGuard autocast(device_, precision_);
  return (model_->poses(state_).to(torch::kFloat) * open_.view({capacity_, 1, 1}))
      .contiguous()
      .to(torch::kCPU);
}

}  // namespace parallax::worldmodel
