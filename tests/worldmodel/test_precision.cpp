// Precision names and "auto": bf16 exactly where the CPU has bf16 matrix units. The reference is
// the kernel's own list of CPU flags (/proc/cpuinfo: amx_bf16, avx512_bf16), read here
// independently of PyTorch's cpuinfo that the library asks.
// torch first: c10 defines a glog-style CHECK that would replace Catch's (last one wins).
#include <torch/torch.h>
#undef CHECK
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>
#include <string>

#include "parallax/worldmodel/precision.hpp"

namespace wm = parallax::worldmodel;

namespace {

// Whether the first "flags" line of /proc/cpuinfo lists `flag` as a whole word.
bool cpuinfo_flag(const std::string& flag) {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("flags", 0) != 0) continue;
    std::istringstream words(line.substr(line.find(':') + 1));
    std::string w;
    while (words >> w)
      if (w == flag) return true;
    return false;
  }
  return false;
}

}  // namespace

TEST_CASE("precision auto picks bf16 exactly on CPUs with bf16 units", "[worldmodel][precision]") {
  std::ifstream probe("/proc/cpuinfo");
  if (!probe) {
    WARN("no /proc/cpuinfo: the reference is missing, only the names are checked");
  } else {
    const bool units = cpuinfo_flag("amx_bf16") || cpuinfo_flag("avx512_bf16");
    INFO("cpuinfo: amx_bf16 or avx512_bf16 = " << units);
    CHECK(wm::has_bf16_units(torch::kCPU) == units);
    CHECK(wm::resolve_precision("auto", torch::kCPU) ==
          (units ? wm::Precision::kBF16 : wm::Precision::kF32));
  }
  CHECK(wm::resolve_precision("f32", torch::kCPU) == wm::Precision::kF32);
  CHECK(wm::resolve_precision("bf16", torch::kCPU) == wm::Precision::kBF16);
  CHECK_THROWS_WITH(wm::resolve_precision("fp16", torch::kCPU),
                    "precision 'fp16': expected f32, bf16 or auto");
  CHECK_THROWS_WITH(wm::precision_from_string("auto"), "precision 'auto': expected f32 or bf16");
}
