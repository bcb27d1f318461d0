// The episode-store fuzz input: shared by the fuzzer (fuzz_store.cpp) and its ctest replay.
// Layout: 4 bytes little-endian n, n bytes of metadata.json, then the bytes of main_data.hdf5
// (an input shorter than 4 bytes, or with n past its end, is all metadata and no HDF5 file).
#pragma once

#include <sys/stat.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

#include "parallax/worldmodel/episode_store.hpp"

namespace parallax::fuzz {

inline void write_bytes(const std::string& file, const std::uint8_t* p, std::size_t n) {
  std::FILE* f = std::fopen(file.c_str(), "wb");
  if (!f) return;
  if (n) std::fwrite(p, 1, n, f);
  std::fclose(f);
}

// Writes DIR/data/metadata.json and DIR/data/main_data.hdf5 from the input bytes.
inline void write_store_input(const std::string& dir, const std::uint8_t* data, std::size_t size) {
  ::mkdir(dir.c_str(), 0700);
  ::mkdir((dir + "/data").c_str(), 0700);
  std::size_t n = size;
  const std::uint8_t* meta = data;
  if (size >= 4) {
    n = static_cast<std::size_t>(data[0]) | static_cast<std::size_t>(data[1]) << 8 |
        static_cast<std::size_t>(data[2]) << 16 | static_cast<std::size_t>(data[3]) << 24;
    meta = data + 4;
    if (n > size - 4) n = size - 4;
  }
  write_bytes(dir + "/data/metadata.json", meta, n);
  const std::size_t rest = size - static_cast<std::size_t>(meta - data) - n;
  if (size >= 4)
    write_bytes(dir + "/data/main_data.hdf5", meta + n, rest);
  else
    std::remove((dir + "/data/main_data.hdf5").c_str());
}

// Opens the dataset in DIR and reads every episode. True when it was refused with a StoreError
// (its message in *what); false when it read cleanly. Any other exception escapes.
inline bool read_store(const std::string& dir, std::string* what) {
  try {
    worldmodel::EpisodeReader r(dir);
    for (int i = 0; i < r.num_episodes(); ++i) (void)r.read(i);
  } catch (const worldmodel::StoreError& e) {
    *what = e.what();
    return true;
  }
  return false;
}

}  // namespace parallax::fuzz
