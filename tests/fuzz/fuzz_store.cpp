// libFuzzer target for the episode-store reader: any metadata.json + main_data.hdf5 pair must open
// and read, or give one StoreError line naming a file. Built apart from the product (clang,
// -fsanitize=fuzzer,address,undefined) by tests/fuzz/build.sh; its corpus is replayed in the
// normal build by tests/worldmodel/test_fuzz_replay_store.cpp.
//
// Input layout (tests/fuzz/store_input.hpp): 4 bytes little-endian n, then n bytes of
// metadata.json, then the bytes of main_data.hdf5.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "parallax/worldmodel/episode_store.hpp"
#include "store_input.hpp"

namespace {
std::string g_dir;
}

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  g_dir = "/dev/shm/parallax-fuzz-store-" + std::to_string(::getpid());
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  parallax::fuzz::write_store_input(g_dir, data, size);
  std::string what;
  if (!parallax::fuzz::read_store(g_dir, &what)) return 0;
  if (what.find('\n') != std::string::npos || what.find(g_dir) != 0) {
    std::fprintf(stderr, "not one line naming the file: %s\n", what.c_str());
    std::abort();
  }
  return 0;
}
