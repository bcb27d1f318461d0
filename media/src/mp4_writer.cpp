#include "parallax/media/mp4_writer.hpp"

#include <cstdio>
#include <stdexcept>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/opt.h>
#include <libswscale/swscale.h>
}

namespace parallax::media {
namespace {

std::string av_error(int code) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {};
  av_strerror(code, buf, sizeof buf);
  return buf;
}

// libx264 first (best quality per bit); else any H.264 encoder libavcodec was built with.
const AVCodec* find_h264() {
  if (const AVCodec* c = avcodec_find_encoder_by_name("libx264")) return c;
  return avcodec_find_encoder(AV_CODEC_ID_H264);
}

}  // namespace

std::string h264_encoder_name() {
  const AVCodec* c = find_h264();
  return c ? c->name : "";
}

struct Mp4Writer::Impl {
  std::string path, part;
  Mp4Options o;
  const AVCodec* codec = nullptr;
  AVFormatContext* fmt = nullptr;
  AVCodecContext* enc = nullptr;
  AVStream* stream = nullptr;
  AVFrame* frame = nullptr;
  AVPacket* packet = nullptr;
  SwsContext* sws = nullptr;
  int frames = 0;
  bool finished = false, file_open = false;

  ~Impl() {
    if (sws) sws_freeContext(sws);
    if (packet) av_packet_free(&packet);
    if (frame) av_frame_free(&frame);
    if (enc) avcodec_free_context(&enc);
    if (fmt) {
      if (file_open) avio_closep(&fmt->pb);
      avformat_free_context(fmt);
    }
    if (!finished && file_open) std::remove(part.c_str());
  }

  void check(int rc, const std::string& what) const {
    if (rc < 0) throw std::runtime_error("mp4: " + what + " (" + part + "): " + av_error(rc));
  }

  // Sends `f` (nullptr: flush) and writes every packet the encoder returns.
  void drain(AVFrame* f) {
    check(avcodec_send_frame(enc, f), "encoding a frame");
    for (;;) {
      const int rc = avcodec_receive_packet(enc, packet);
      if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF) return;
      check(rc, "encoding a frame");
      if (packet->duration == 0)
        packet->duration = 1;  // one frame; else the MP4 ends a frame early
      av_packet_rescale_ts(packet, enc->time_base, stream->time_base);
      packet->stream_index = stream->index;
      check(av_interleaved_write_frame(fmt, packet), "writing a packet");
    }
  }
};

Mp4Writer::Mp4Writer(std::string path, Mp4Options options) : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  m.path = std::move(path);
  m.part = m.path + ".part";
  m.o = options;
  auto require = [](bool ok, const std::string& what) {
    if (!ok) throw std::invalid_argument("mp4: " + what);
  };
  require(m.o.width >= 16 && m.o.width <= 8192 && m.o.width % 2 == 0,
          "width must be even and in [16, 8192], got " + std::to_string(m.o.width));
  require(m.o.height >= 16 && m.o.height <= 8192 && m.o.height % 2 == 0,
          "height must be even and in [16, 8192], got " + std::to_string(m.o.height));
  require(m.o.fps >= 1 && m.o.fps <= 240,
          "fps must be in [1, 240], got " + std::to_string(m.o.fps));
  require(m.o.crf >= 0 && m.o.crf <= 51, "crf must be in [0, 51], got " + std::to_string(m.o.crf));
  av_log_set_level(AV_LOG_ERROR);
  m.codec = find_h264();
  if (!m.codec)
    throw std::runtime_error(
        "mp4: this libavcodec has no H.264 encoder (install libavcodec59 built with libx264)");

  m.check(avformat_alloc_output_context2(&m.fmt, nullptr, "mp4", m.part.c_str()),
          "creating the MP4 container");
  m.enc = avcodec_alloc_context3(m.codec);
  if (!m.enc) throw std::runtime_error("mp4: out of memory");
  m.enc->width = m.o.width;
  m.enc->height = m.o.height;
  m.enc->pix_fmt = AV_PIX_FMT_YUV420P;
  m.enc->time_base = AVRational{1, m.o.fps};
  m.enc->framerate = AVRational{m.o.fps, 1};
  m.enc->gop_size = m.o.fps;
  m.enc->max_b_frames = 0;
  if (m.fmt->oformat->flags & AVFMT_GLOBALHEADER) m.enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
  if (std::string(m.codec->name) == "libx264") {
    av_opt_set(m.enc->priv_data, "preset", "veryfast", 0);
    av_opt_set(m.enc->priv_data, "crf", std::to_string(m.o.crf).c_str(), 0);
    // Deterministic output: one encoder thread (frame threads reorder rate control).
    m.enc->thread_count = 1;
  }
  m.check(avcodec_open2(m.enc, m.codec, nullptr), std::string("opening encoder ") + m.codec->name);
  m.stream = avformat_new_stream(m.fmt, nullptr);
  if (!m.stream) throw std::runtime_error("mp4: out of memory");
  m.stream->time_base = m.enc->time_base;
  m.stream->avg_frame_rate = m.enc->framerate;
  m.check(avcodec_parameters_from_context(m.stream->codecpar, m.enc), "stream parameters");
  m.check(avio_open(&m.fmt->pb, m.part.c_str(), AVIO_FLAG_WRITE), "cannot open for writing");
  m.file_open = true;
  m.check(avformat_write_header(m.fmt, nullptr), "writing the MP4 header");

  m.frame = av_frame_alloc();
  m.packet = av_packet_alloc();
  if (!m.frame || !m.packet) throw std::runtime_error("mp4: out of memory");
  m.frame->format = AV_PIX_FMT_YUV420P;
  m.frame->width = m.o.width;
  m.frame->height = m.o.height;
  m.check(av_frame_get_buffer(m.frame, 0), "allocating a frame");
  m.sws = sws_getContext(m.o.width, m.o.height, AV_PIX_FMT_RGB24, m.o.width, m.o.height,
                         AV_PIX_FMT_YUV420P, SWS_BILINEAR, nullptr, nullptr, nullptr);
  if (!m.sws) throw std::runtime_error("mp4: cannot create the RGB -> YUV converter");
}

Mp4Writer::~Mp4Writer() = default;

void Mp4Writer::write(std::span<const std::uint8_t> rgb) {
  Impl& m = *impl_;
  if (m.finished) throw std::logic_error("mp4: write() after finish()");
  const std::size_t want = static_cast<std::size_t>(m.o.width) * m.o.height * 3;
  if (rgb.size() != want)
    throw std::invalid_argument("mp4: frame has " + std::to_string(rgb.size()) +
                                " bytes, expected " + std::to_string(want) + " (" +
                                std::to_string(m.o.width) + "x" + std::to_string(m.o.height) +
                                " RGB)");
  m.check(av_frame_make_writable(m.frame), "frame buffer");
  const std::uint8_t* src[1] = {rgb.data()};
  const int stride[1] = {3 * m.o.width};
  sws_scale(m.sws, src, stride, 0, m.o.height, m.frame->data, m.frame->linesize);
  m.frame->pts = m.frames++;
  m.drain(m.frame);
}

void Mp4Writer::finish() {
  Impl& m = *impl_;
  if (m.finished) return;
  m.drain(nullptr);
  m.check(av_write_trailer(m.fmt), "writing the MP4 trailer");
  m.check(avio_closep(&m.fmt->pb), "closing the file");
  m.file_open = false;
  if (std::rename(m.part.c_str(), m.path.c_str()) != 0) {
    std::remove(m.part.c_str());
    throw std::runtime_error("mp4: cannot rename " + m.part + " to " + m.path);
  }
  m.finished = true;
}

int Mp4Writer::frames() const {
  return impl_->frames;
}
const std::string& Mp4Writer::path() const {
  return impl_->path;
}
const char* Mp4Writer::encoder() const {
  return impl_->codec->name;
}

}  // namespace parallax::media
