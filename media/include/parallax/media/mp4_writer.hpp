// An H.264 MP4 writer over FFmpeg's libraries (libavcodec, libavformat, libswscale).
//
// Frames are RGB [H, W, 3] u8, converted to yuv420p and encoded at a constant frame rate.
// Encoder: libx264 when libavcodec has it (Debian's does), else the first other H.264 encoder
// libavcodec offers; none => std::runtime_error saying so. The video is written to
// "<path>.part" and renamed to <path> by finish(): a failed or abandoned recording leaves
// nothing under <path> (the destructor removes the partial file).
// Reference: docs/viewer.md.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

namespace parallax::media {

struct Mp4Options {
  int width = 0, height = 0;  // pixels, even, 16..8192
  int fps = 30;               // frames per second, 1..240
  int crf = 18;               // libx264 quality (0 lossless .. 51); ignored by other encoders
};

class Mp4Writer {
 public:
  // Opens the encoder and the temporary file; throws std::invalid_argument (bad options,
  // naming the option) or std::runtime_error (no H.264 encoder, cannot open `path`).
  Mp4Writer(std::string path, Mp4Options options);
  ~Mp4Writer();
  Mp4Writer(const Mp4Writer&) = delete;
  Mp4Writer& operator=(const Mp4Writer&) = delete;

  // Encodes one frame [height, width, 3] u8.
  void write(std::span<const std::uint8_t> rgb);
  // Flushes the encoder, writes the trailer and renames the file into place.
  void finish();
  int frames() const;
  const std::string& path() const;
  // The encoder in use ("libx264", ...).
  const char* encoder() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The H.264 encoder Mp4Writer would use, or "" when libavcodec has none.
std::string h264_encoder_name();

}  // namespace parallax::media
