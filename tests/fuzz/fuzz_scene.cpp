// libFuzzer target for the scene loader: any byte string must parse or give one SceneError line.
// Built apart from the product (clang, -fsanitize=fuzzer,address,undefined) by
// tests/fuzz/build.sh; its corpus is replayed in the normal build by
// tests/sim/test_fuzz_replay.cpp.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "parallax/sim/scene.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    parallax::sim::parse_scene(text, "fuzz.json");
  } catch (const parallax::sim::SceneError& e) {
    const std::string what = e.what();
    if (what.find('\n') != std::string::npos || what.rfind("fuzz.json: ", 0) != 0) {
      std::fprintf(stderr, "not one line naming the file: %s\n", what.c_str());
      std::abort();
    }
  }
  // Any other exception escapes and libFuzzer reports it as a crash.
  return 0;
}
