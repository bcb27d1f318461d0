// Recording: the side-by-side view (media::SideBySide) of the selected env to an H.264 MP4, one
// video frame per tick at the scene's control rate, and PNG snapshots of the same view.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "parallax/media/mp4_writer.hpp"
#include "parallax/media/side_by_side.hpp"
#include "session.hpp"

namespace parallax::viewer {

class Recorder {
 public:
  // Starts a recording (throws std::runtime_error / invalid_argument with the reason).
  void start(const std::string& path, const Snapshot& s);
  // Appends the view of this snapshot's selected env (call once per new tick).
  void add(const Snapshot& s);
  // Finishes and closes the file; returns the number of frames written.
  int stop();
  bool recording() const { return writer_ != nullptr; }
  const std::string& path() const { return path_; }
  int frames() const { return writer_ ? writer_->frames() : 0; }
  // PNG of the side-by-side view of the selected env.
  static void snapshot(const std::string& path, const Snapshot& s);

 private:
  std::unique_ptr<media::SideBySide> view_;
  std::unique_ptr<media::Mp4Writer> writer_;
  std::string path_;
};

// The side-by-side options the viewer, recorder and `parallax demo --mp4` share for a frame size.
media::SideBySideOptions side_by_side_options(int frame_height, int frame_width);

}  // namespace parallax::viewer
