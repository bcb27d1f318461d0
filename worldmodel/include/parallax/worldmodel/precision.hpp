// Inference precision of the dream: f32 (the default; bit-reproducible) or bf16 autocast (the
// matrix units of the CPU or GPU; about 3x faster for the `unet` family on a CPU with AMX or
// AVX-512 BF16, frames within a few levels of f32's: docs/worldmodel.md, "Precision").
#pragma once

#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

#include <string>

namespace torch::nn {
class Module;
}

namespace parallax::worldmodel {

enum class Precision {
  kF32,   // float32 everywhere
  kBF16,  // bf16 autocast on the model's device (as torch.autocast(device, torch.bfloat16))
};

// "f32" | "bf16"; anything else throws std::invalid_argument naming the value.
Precision precision_from_string(const std::string& name);
const char* to_string(Precision precision);

// Whether `device` has matrix units for bf16, where bf16 autocast runs faster than f32: a CPU
// with AMX-BF16 or AVX-512 BF16 (PyTorch's cpuinfo), a GPU with bf16 cuDNN convolutions (sm_80
// and later). Elsewhere bf16 is emulated and slower than f32.
bool has_bf16_units(c10::Device device);
// "f32" | "bf16" | "auto" (bf16 where has_bf16_units(device), else f32); anything else throws
// std::invalid_argument naming the value.
Precision resolve_precision(const std::string& name, c10::Device device);

// RAII: while alive, bf16 autocast on `device`'s type when `precision` is kBF16; nothing for
// kF32. Restores the previous autocast state of that device type on exit.
class AutocastGuard {
 public:
  AutocastGuard(c10::Device device, Precision precision);
  ~AutocastGuard();
  AutocastGuard(const AutocastGuard&) = delete;
  AutocastGuard& operator=(const AutocastGuard&) = delete;

 private:
  c10::DeviceType type_;
  bool enabled_;
  bool previous_ = false;
  c10::ScalarType previous_dtype_ = c10::ScalarType::Float;
};

// Stores the module's 4-D parameters (convolution weights) channels-last, the layout oneDNN's
// bf16 convolutions want; values unchanged (f32 results may then differ in the last bits).
void use_channels_last(torch::nn::Module& module);

}  // namespace parallax::worldmodel
