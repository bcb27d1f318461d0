// Batch renderer: an analytic ray caster over a scene's primitives (planes, boxes, spheres,
// cylinders, capsules and flat disc markers). One directional light plus ambient, Lambert
// shading, hard shadows by shadow rays, 1 or 4 samples per pixel. The per-pixel code is shared
// by the CPU path (Renderer, worker threads) and the CUDA path (CudaRenderer, one launch for all
// environments); see sim/src/render_kernel.hpp. Both implement one interface, BatchRenderer:
// render(RenderInputs, rgb, ids), the inputs being a batch's (WorldBatch::render_inputs()) or one
// World's (WorldRenderInputs).
//
// Buffers (all row-major, caller-owned, K = scene bodies, M = scene markers, in file order):
//   poses   [N, K, 7] f32  x y z (metres) qx qy qz qw (unit quaternion) per body
//   markers [N, M, 3] f32  disc centres in metres, or nullptr for the scene's nominal positions
//   colors  [N, K, 3] f32  RGB in [0, 1] per body (World::body_colors), or nullptr: scene colours
//   scales  [N, K] f32     size scale per body, multiplies every dimension, or nullptr: 1
//   rgb     [N, H, W, 3] u8  row 0 at the top; colour byte = round(255 * scene colour * shade),
//                          no gamma curve; background is a fixed sky colour (kBackground)
//   ids     [N, H, W] u8   0 = background, k + 1 = body k, K + 1 + m = marker m (nullptr: none)
// shade = ambient + (1 - ambient) * max(0, normal . to_light) * lit, lit = 0 where a shadow ray
// toward the light hits a body. Discs lie 1 mm above their plane and cast no shadows; planes
// and discs are two-sided. With spp 4 the colour is the mean of a 2x2 grid of samples and the id
// is the most common id of the four (ties: the earliest sample).
// Reference: docs/render.md.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "parallax/sim/render_inputs.hpp"
#include "parallax/sim/scene.hpp"

namespace parallax::sim {

class ThreadPool;

struct RenderOptions {
  int width = 0, height = 0;  // pixels, 16..1024 each; 0 = the scene camera's
  int spp = 1;                // samples per pixel: 1 or 4
  bool shadows = true;        // cast shadow rays toward the light
  int threads = 1;            // CPU worker threads (Renderer only), >= 1
};

// Sky colour of pixels that hit nothing, RGB in [0, 1].
inline constexpr std::array<float, 3> kBackground{0.62f, 0.72f, 0.85f};

// The bodies' initial poses from the scene file (no randomisation): [K, 7] f32.
std::vector<float> initial_poses(const SceneModel& scene);
// The markers' nominal positions: [M, 3] f32.
std::vector<float> initial_markers(const SceneModel& scene);

class RenderSetup;  // the scene's primitives and camera, prepared once (render_kernel.hpp)

// The interface of both paths.
class BatchRenderer {
 public:
  virtual ~BatchRenderer() = default;
  virtual int width() const = 0;        // pixels
  virtual int height() const = 0;       // pixels
  virtual int num_bodies() const = 0;   // K
  virtual int num_markers() const = 0;  // M
  // Whether render() reads and writes device (CUDA) memory rather than host memory.
  virtual bool on_device() const = 0;
  // Renders in.n environments into rgb [N, H, W, 3] u8 and ids [N, H, W] u8 (nullptr: none).
  virtual void render(const RenderInputs& in, std::uint8_t* rgb,
                      std::uint8_t* ids = nullptr) const = 0;
  // Waits until the last render() has finished (the CPU path returns from render() finished).
  virtual void synchronize() const {}
};

// "cpu" -> Renderer, "cuda" -> CudaRenderer; anything else throws std::invalid_argument.
std::unique_ptr<BatchRenderer> make_renderer(const std::string& device,
                                             std::shared_ptr<const SceneModel> scene,
                                             RenderOptions options = {});

// CPU path. render() is const but uses the renderer's worker pool: do not call it on one
// Renderer from two threads at once.
class Renderer final : public BatchRenderer {
 public:
  // Throws std::invalid_argument for a size outside 16..1024, spp not 1 or 4, threads < 1, or a
  // scene with more than 254 bodies and markers (ids are u8).
  explicit Renderer(std::shared_ptr<const SceneModel> scene, RenderOptions options = {});
  ~Renderer();
  Renderer(const Renderer&) = delete;
  Renderer& operator=(const Renderer&) = delete;

  int width() const override;
  int height() const override;
  int num_bodies() const override;
  int num_markers() const override;
  bool on_device() const override { return false; }
  const RenderOptions& options() const { return options_; }

  // Host pointers (see the buffer layout at the top of this file).
  void render(const RenderInputs& in, std::uint8_t* rgb,
              std::uint8_t* ids = nullptr) const override;

  // The number of exact ray-primitive intersection tests one render() of these inputs runs
  // (after the cheap screen-rectangle and bounding-sphere culls); for benchmarks. Single-threaded.
  std::int64_t count_ray_tests(const RenderInputs& in) const;

 private:
  std::shared_ptr<const SceneModel> scene_;
  RenderOptions options_;
  std::unique_ptr<RenderSetup> setup_;
  std::unique_ptr<ThreadPool> pool_;  // null when threads == 1
};

// True when the library was built with CUDA and a CUDA device is present.
bool cuda_renderer_available();

// CUDA path: the same images as Renderer (up to floating-point rounding at edges), rendered by
// one kernel launch for all n environments. poses, markers, rgb and ids are DEVICE pointers the
// caller owns, with the layouts above. The launch goes to the legacy default stream and render()
// returns without waiting; synchronize() waits. Built without CUDA, the constructor throws
// std::runtime_error("built without CUDA").
class CudaRenderer final : public BatchRenderer {
 public:
  explicit CudaRenderer(std::shared_ptr<const SceneModel> scene, RenderOptions options = {});
  ~CudaRenderer() override;
  CudaRenderer(const CudaRenderer&) = delete;
  CudaRenderer& operator=(const CudaRenderer&) = delete;

  int width() const override;
  int height() const override;
  int num_bodies() const override;
  int num_markers() const override;
  bool on_device() const override { return true; }

  // Every pointer of `in`, and rgb and ids, on the device.
  void render(const RenderInputs& in, std::uint8_t* rgb,
              std::uint8_t* ids = nullptr) const override;
  // Waits for the device to finish; throws std::runtime_error on a CUDA error.
  void synchronize() const override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A plain CUDA device allocation for tests, benchmarks and callers without torch. Built without
// CUDA, the constructor throws std::runtime_error("built without CUDA").
class DeviceBuffer {
 public:
  explicit DeviceBuffer(std::size_t bytes);
  ~DeviceBuffer();
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  void* data() const { return data_; }
  std::size_t size() const { return bytes_; }
  void upload(const void* host, std::size_t bytes);    // host -> device, synchronous
  void download(void* host, std::size_t bytes) const;  // device -> host, synchronous

 private:
  void* data_ = nullptr;
  std::size_t bytes_ = 0;
};

}  // namespace parallax::sim
