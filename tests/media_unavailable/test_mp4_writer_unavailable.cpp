// The MP4 writer of a build configured with -DPARALLAX_WITH_FFMPEG=OFF (the GPU machine's):
// compiled on its own into every build's tests, so the path without FFmpeg is checked where
// FFmpeg is installed too.
#include <catch2/catch.hpp>
#include <stdexcept>
#include <string>

#include "parallax/media/mp4_writer.hpp"

namespace media = parallax::media;

TEST_CASE("mp4 without FFmpeg: a recording fails at once and says why") {
  CHECK(media::h264_encoder_name().empty());
  try {
    media::Mp4Writer w("/tmp/parallax-never-written.mp4", {.width = 64, .height = 64});
    FAIL("constructed a writer without FFmpeg");
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    CHECK(what.find("/tmp/parallax-never-written.mp4") != std::string::npos);
    CHECK(what.find("PARALLAX_WITH_FFMPEG=OFF") != std::string::npos);
  }
}
