// Inference precision: bf16 autocast guard and the channels-last weight layout.
#include "parallax/worldmodel/precision.hpp"

#include <ATen/autocast_mode.h>
#include <ATen/cpu/Utils.h>
#include <ATen/detail/CUDAHooksInterface.h>
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

bool has_bf16_units(c10::Device device) {
  if (device.is_cuda()) return at::detail::getCUDAHooks().supportsBFloat16ConvolutionWithCuDNNv8();
  if (!device.is_cpu()) return false;
  const auto caps = at::cpu::get_cpu_capabilities();
  const auto flag = [&](const char* name) {
    const auto it = caps.find(name);
    return it != caps.end() && it->second.isBool() && it->second.toBool();
  };
  return flag("amx_bf16") || flag("avx512_bf16");
}

Precision resolve_precision(const std::string& name, c10::Device device) {
  if (name == "auto") return has_bf16_units(device) ? Precision::kBF16 : Precision::kF32;
  if (name == "f32" || name == "bf16") return precision_from_string(name);
  throw std::invalid_argument("precision '" + name + "': expected f32, bf16 or auto");
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
