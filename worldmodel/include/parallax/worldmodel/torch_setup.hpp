// Process-wide LibTorch settings. LibTorch starts with one intra-op thread in this setup;
// front ends, tests and benchmarks call init_torch_threads() once at start.
// Reference: docs/worldmodel.md.
#pragma once

namespace parallax::worldmodel {

// Sets LibTorch's intra-op thread count (0 = number of hardware cores). Returns the count set.
int init_torch_threads(int threads = 0);

// True when LibTorch sees a usable CUDA device.
bool cuda_available();

}  // namespace parallax::worldmodel
