#include "recorder.hpp"

#include "parallax/sim/image_io.hpp"

namespace parallax::viewer {

media::SideBySideOptions side_by_side_options(int frame_height, int frame_width) {
  return media::SideBySideOptions{.frame_height = frame_height, .frame_width = frame_width};
}

namespace {
std::span<const std::uint8_t> env_frame(const std::vector<std::uint8_t>& all, const Snapshot& s) {
  const std::size_t f = static_cast<std::size_t>(s.h) * s.w * 3;
  return std::span(all).subspan(s.env * f, f);
}
}  // namespace

void Recorder::start(const std::string& path, const Snapshot& s) {
  stop();
  auto view = std::make_unique<media::SideBySide>(side_by_side_options(s.h, s.w));
  writer_ = std::make_unique<media::Mp4Writer>(
      path,
      media::Mp4Options{.width = view->width(), .height = view->height(), .fps = s.control_hz});
  view_ = std::move(view);
  path_ = path;
}

void Recorder::add(const Snapshot& s) {
  if (!writer_) return;
  writer_->write(view_->compose(env_frame(s.true_rgb, s), env_frame(s.pred_rgb, s)));
}

int Recorder::stop() {
  if (!writer_) return 0;
  const int n = writer_->frames();
  auto w = std::move(writer_);
  w->finish();
  return n;
}

void Recorder::snapshot(const std::string& path, const Snapshot& s) {
  media::SideBySide view(side_by_side_options(s.h, s.w));
  const auto img = view.compose(env_frame(s.true_rgb, s), env_frame(s.pred_rgb, s));
  sim::write_png(path, view.width(), view.height(), 3, img.data());
}

}  // namespace parallax::viewer
