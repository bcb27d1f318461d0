// libFuzzer target for the checkpoint loader: any bytes given to load_world_model() (both formats:
// the torch.save dict "parallax-model/2" and the RSSM archive "parallax-rssm/1") must load or give
// one std::runtime_error line naming the checkpoint; anything else (a crash, a sanitizer report,
// a c10::Error or another exception escaping) is a finding. Built apart from the product by
// tests/fuzz/build.sh: our loading layer (model_registry.cpp, checkpoint.cpp, config.cpp) is
// instrumented; LibTorch's zip reader and unpickler are linked as shipped (not instrumented, so
// they give no coverage feedback, but a crash inside them is still caught). Its corpus is replayed
// in the normal build by tests/worldmodel/test_fuzz_replay_checkpoint.cpp.
#include <torch/torch.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "parallax/worldmodel/world_model.hpp"

namespace {
std::string g_file;
}

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  g_file = "/dev/shm/parallax-fuzz-checkpoint-" + std::to_string(::getpid()) + ".pt";
  torch::set_num_threads(1);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::FILE* f = std::fopen(g_file.c_str(), "wb");
  if (!f) std::abort();
  if (size) std::fwrite(data, 1, size, f);
  std::fclose(f);
  try {
    (void)parallax::worldmodel::load_world_model(g_file, torch::kCPU);
  } catch (const c10::Error& e) {
    std::fprintf(stderr, "c10::Error escaped: %s\n", e.what_without_backtrace());
    std::abort();
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    if (what.find('\n') != std::string::npos || what.find("checkpoint '" + g_file + "'") != 0) {
      std::fprintf(stderr, "not one line naming the checkpoint: %s\n", what.c_str());
      std::abort();
    }
  }
  return 0;
}
