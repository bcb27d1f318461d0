// PNG reading and writing through libstb (the implementations are compiled into libstb.so).
#include "parallax/sim/image_io.hpp"

#include "parallax/base/atomic_file.hpp"

#include <stb_image.h>
#include <stb_image_write.h>
#include <unistd.h>

#include <cassert>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <system_error>

namespace parallax::sim {

void write_png(const std::filesystem::path& file, int width, int height, int channels,
               const std::uint8_t* data) {
  assert(data != nullptr && "write_png: data must not be null");
  if (width <= 0 || height <= 0 || channels < 1 || channels > 4) {
    throw std::runtime_error(file.string() + ": cannot write PNG of " + std::to_string(width) +
                             "x" + std::to_string(height) + "x" + std::to_string(channels) +
                             " (expected positive size and 1..4 channels)");
  }
  base::AtomicReplace out(file);
  const int ok =
      stbi_write_png(out.temp_path().c_str(), width, height, channels, data, width * channels);
  if (!ok)
    throw std::runtime_error(file.string() +
                             ": cannot write PNG (is the folder there and writable?)");
  out.commit();
}

Image read_png(const std::filesystem::path& file, int channels) {
  assert(channels >= 0 && channels <= 4 && "read_png: channels must be 0..4");
  Image image;
  int file_channels = 0;
  std::uint8_t* data =
      stbi_load(file.c_str(), &image.width, &image.height, &file_channels, channels);
  if (data == nullptr) {
    const char* reason = stbi_failure_reason();
    throw std::runtime_error(file.string() + ": cannot read image (" +
                             (reason ? reason : "unknown error") + ")");
  }
  image.channels = channels == 0 ? file_channels : channels;
  const std::size_t bytes = static_cast<std::size_t>(image.width) * image.height * image.channels;
  image.pixels.assign(data, data + bytes);
  stbi_image_free(data);
  return image;
}

}  // namespace parallax::sim
