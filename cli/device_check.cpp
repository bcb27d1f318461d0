// --device for the model commands (built into the plugin: it asks LibTorch for CUDA).
#include "commands.hpp"
#include "common.hpp"
#include "parallax/worldmodel/torch_setup.hpp"

namespace parallax::cli {

void check_device(const std::string& device) {
  if (device != "cpu" && device != "cuda")
    throw UsageError("--device must be cpu or cuda, got '" + device + "'");
  if (device == "cuda" && !worldmodel::cuda_available())
    throw UsageError("--device cuda: no CUDA device is available on this machine");
}

}  // namespace parallax::cli
