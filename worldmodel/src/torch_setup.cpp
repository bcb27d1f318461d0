// Process-wide LibTorch settings (torch_setup.hpp).
#include "parallax/worldmodel/torch_setup.hpp"

#include <torch/cuda.h>
#include <torch/utils.h>

#include <algorithm>
#include <thread>

namespace parallax::worldmodel {

int init_torch_threads(int threads) {
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  torch::set_num_threads(threads);
  return threads;
}

bool cuda_available() {
  return torch::cuda::is_available();
}

}  // namespace parallax::worldmodel
