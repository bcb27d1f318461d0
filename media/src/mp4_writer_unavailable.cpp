// Mp4Writer in a build configured with -DPARALLAX_WITH_FFMPEG=OFF (for machines without FFmpeg's
// development files, such as the GPU machine of bench/device-check.sh): every recording fails at
// once with an error that says why, and h264_encoder_name() reports no encoder.
#include <stdexcept>

#include "parallax/media/mp4_writer.hpp"

namespace parallax::media {

struct Mp4Writer::Impl {
  std::string path;
};

std::string h264_encoder_name() {
  return "";
}

Mp4Writer::Mp4Writer(std::string path, Mp4Options /*options*/) {
  throw std::runtime_error(path +
                           ": cannot write MP4: this build of Parallax has no FFmpeg "
                           "(configured with -DPARALLAX_WITH_FFMPEG=OFF)");
}

Mp4Writer::~Mp4Writer() = default;

// A writer is never constructed in this build: the members below cannot be reached.
void Mp4Writer::write(std::span<const std::uint8_t> /*rgb*/) {
  throw std::logic_error("Mp4Writer::write: no FFmpeg in this build");
}
void Mp4Writer::finish() {
  throw std::logic_error("Mp4Writer::finish: no FFmpeg in this build");
}
int Mp4Writer::frames() const {
  return 0;
}
const std::string& Mp4Writer::path() const {
  return impl_->path;
}
const char* Mp4Writer::encoder() const {
  return "";
}

}  // namespace parallax::media
