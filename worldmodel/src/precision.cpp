// Inference precision: bf16 autocast guard and the channels-last weight layout.
#include "parallax/worldmodel/precision.hpp"

#include <ATen/autocast_mode.h>
#include <torch/torch.h>

#include <stdexcept>

namespace parallax::worldmodel {

Precision precision_from_string(const std::string& name) {
  if (name == "f32") return Precision::kF32;
  if (name == "bf16") return Precision::kBF16;
  throw std::invalid_argument("precision '" + name + "': expected f32 or bf16");
}

const char* to_string(Precision precision) {
  return precision == Precision::kBF16 ? "bf16" : "f32";
}

AutocastGuard::AutocastGuard(c10::Device device, Precision precision)
    : type_(device.type()), enabled_(precision == Precision::kBF16) {
  if (!enabled_) return;
  previous_ = at::autocast::is_autocast_enabled(type_);
  previous_dtype_ = at::autocast::get_autocast_dtype(type_);
  at::autocast::set_autocast_enabled(type_, true);
  at::autocast::set_autocast_dtype(type_, at::kBFloat16);
  at::autocast::increment_nesting();
}

AutocastGuard::~AutocastGuard() {
  if (!enabled_) return;
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  at::autocast::set_autocast_enabled(type_, previous_);
  at::autocast::set_autocast_dtype(type_, previous_dtype_);
}

void use_channels_last(torch::nn::Module& module) {
  torch::NoGradGuard no_grad;
  for (auto& p : module.parameters()) {
    if (p.dim() == 4) p.set_data(p.data().contiguous(at::MemoryFormat::ChannelsLast));
  }
}

}  // namespace parallax::worldmodel
