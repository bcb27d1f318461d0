// PNG files through stb_image / stb_image_write (Debian's libstb). No stb types leak out.
// Reference: docs/render.md.
#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

namespace parallax::sim {

// An 8-bit image in row-major, interleaved order: pixels [height, width, channels] u8.
struct Image {
  int width = 0, height = 0, channels = 0;
  std::vector<std::uint8_t> pixels;  // [height, width, channels] u8
};

// Writes data [height, width, channels] u8 (channels 1 = grey, 3 = RGB, 4 = RGBA) as a PNG.
// Atomic (parallax/base/atomic_file.hpp): a reader never sees half a file.
// Throws std::runtime_error naming the file when it cannot be written.
void write_png(const std::filesystem::path& file, int width, int height, int channels,
               const std::uint8_t* data);

// Reads a PNG (or any format stb_image knows). `channels` 0 keeps the file's channel count,
// 1..4 converts. Throws std::runtime_error naming the file and stb's reason on failure.
Image read_png(const std::filesystem::path& file, int channels = 0);

}  // namespace parallax::sim
