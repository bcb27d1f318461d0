// --precision: the dream's inference precision for the model commands (plan, scale, evaluate).
#pragma once

#include <CLI/CLI.hpp>
#include <stdexcept>
#include <string>

#include "common.hpp"
#include "parallax/worldmodel/precision.hpp"

namespace parallax::cli {

inline void add_precision_option(CLI::App* sub, std::string& value) {
  sub->add_option("--precision", value,
                  "Dream inference: f32 (bit-reproducible) | bf16 (autocast; about 3x faster for "
                  "`unet` models on CPUs with AMX or AVX-512 BF16; docs/worldmodel.md) | auto "
                  "(bf16 where the device has bf16 units, else f32)")
      ->capture_default_str();
}

// The flag's value on `device` ("auto" resolved there), or a UsageError (exit 2) naming it.
inline worldmodel::Precision parse_precision(const std::string& value, const std::string& device) {
  try {
    return worldmodel::resolve_precision(value, c10::Device(device));
  } catch (const std::invalid_argument&) {
    throw UsageError("--precision must be f32, bf16 or auto, got '" + value + "'");
  }
}

}  // namespace parallax::cli
