// CUDA path of the batch renderer: one launch renders all N environments. Each block renders a
// 16x16 tile of one environment; its threads first build that environment's primitives in
// shared memory, then shade one pixel each with the same code as the CPU (render_kernel.hpp).
// No torch here: frames cross to the world model as raw device pointers.
#include <cuda_runtime.h>

#include <cassert>
#include <stdexcept>
#include <string>
#include <utility>

#include "parallax/sim/renderer.hpp"
#include "render_kernel.hpp"
#include "render_setup.hpp"

namespace parallax::sim {
namespace {

constexpr int kTile = 16;  // pixels per block side

void check(cudaError_t err, const char* what) {
  if (err != cudaSuccess) {
    throw std::runtime_error(std::string("CUDA renderer: ") + what + ": " +
                             cudaGetErrorString(err));
  }
}

// grid.x = n * tiles_x * tiles_y blocks of kTile x kTile threads; shared memory: prims [K + M].
__global__ void render_kernel(rk::Frame f, const rk::StaticPrim* __restrict__ statics,
                              const float* __restrict__ poses, const float* __restrict__ markers,
                              int marker_stride, const float* __restrict__ colors,
                              const float* __restrict__ scales, int tiles_x, int tiles_per_frame,
                              uint8_t* __restrict__ rgb, uint8_t* __restrict__ ids) {
  extern __shared__ rk::Prim prims[];
  const int env = blockIdx.x / tiles_per_frame;
  const int tile = blockIdx.x % tiles_per_frame;
  const int k = f.num_bodies, np = f.num_bodies + f.num_markers;
  const int tid = threadIdx.y * blockDim.x + threadIdx.x;
  // This environment's primitives, one thread each.
  for (int i = tid; i < np; i += blockDim.x * blockDim.y) {
    const long long ek = static_cast<long long>(env) * k + i;  // (env, body) index if i < k
    if (i < k) {
      rk::build_prim(f, statics[i], poses + ek * 7, i + 1, colors ? colors + ek * 3 : nullptr,
                     scales ? scales[ek] : 1.f, &prims[i]);
    } else {
      rk::build_prim(f, statics[i],
                     markers + static_cast<long long>(env) * marker_stride + 3 * (i - k), i + 1,
                     nullptr, 1.f, &prims[i]);
    }
  }
  __syncthreads();
  const int px = (tile % tiles_x) * kTile + threadIdx.x;
  const int py = (tile / tiles_x) * kTile + threadIdx.y;
  if (px >= f.width || py >= f.height) return;
  const long long pixel = (static_cast<long long>(env) * f.height + py) * f.width + px;
  rk::render_pixel<false>(f, prims, px, py, nullptr, rgb + 3 * pixel, ids ? ids + pixel : nullptr,
                          nullptr);
}

}  // namespace

bool cuda_renderer_available() {
  int count = 0;
  return cudaGetDeviceCount(&count) == cudaSuccess && count > 0;
}

struct CudaRenderer::Impl {
  std::shared_ptr<const SceneModel> scene;
  RenderSetup setup;
  rk::StaticPrim* statics = nullptr;  // device [K + M]
  float* nominal_markers = nullptr;   // device [M, 3] f32
  Impl() = default;
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
  ~Impl() {
    cudaFree(statics);
    cudaFree(nominal_markers);
  }
};

CudaRenderer::CudaRenderer(std::shared_ptr<const SceneModel> scene, RenderOptions options)
    : impl_(std::make_unique<Impl>()) {
  assert(scene != nullptr && "CudaRenderer: scene must not be null");
  impl_->setup = make_render_setup(*scene, options);
  impl_->scene = std::move(scene);
  if (!cuda_renderer_available()) throw std::runtime_error("CUDA renderer: no CUDA device");
  const auto& s = impl_->setup;
  const std::size_t prim_bytes = s.prims.size() * sizeof(rk::StaticPrim);
  const std::size_t marker_bytes = s.nominal_markers.size() * sizeof(float);
  if (prim_bytes > 0) {
    check(cudaMalloc(&impl_->statics, prim_bytes), "cudaMalloc");
    check(cudaMemcpy(impl_->statics, s.prims.data(), prim_bytes, cudaMemcpyHostToDevice),
          "cudaMemcpy");
  }
  if (marker_bytes > 0) {
    check(cudaMalloc(&impl_->nominal_markers, marker_bytes), "cudaMalloc");
    check(cudaMemcpy(impl_->nominal_markers, s.nominal_markers.data(), marker_bytes,
                     cudaMemcpyHostToDevice),
          "cudaMemcpy");
  }
}

CudaRenderer::~CudaRenderer() = default;

int CudaRenderer::width() const {
  return impl_->setup.frame.width;
}
int CudaRenderer::height() const {
  return impl_->setup.frame.height;
}
int CudaRenderer::num_bodies() const {
  return impl_->setup.frame.num_bodies;
}
int CudaRenderer::num_markers() const {
  return impl_->setup.frame.num_markers;
}

void CudaRenderer::render(const RenderInputs& in, std::uint8_t* rgb, std::uint8_t* ids) const {
  const int n = in.n;
  const float* markers = in.markers;
  assert(n >= 0 && "CudaRenderer::render: n must be >= 0");
  assert(rgb != nullptr && "CudaRenderer::render: rgb [N, H, W, 3] must not be null");
  if (n == 0) return;
  const rk::Frame& f = impl_->setup.frame;
  const int tiles_x = (f.width + kTile - 1) / kTile;
  const int tiles_y = (f.height + kTile - 1) / kTile;
  const int tiles = tiles_x * tiles_y;
  const long long blocks = static_cast<long long>(n) * tiles;
  if (blocks > 0x7fffffffLL) throw std::runtime_error("CUDA renderer: too many environments");
  const int marker_stride = markers ? 3 * f.num_markers : 0;
  const float* mk = markers ? markers : impl_->nominal_markers;
  const std::size_t shared = (f.num_bodies + f.num_markers) * sizeof(rk::Prim);
  render_kernel<<<static_cast<unsigned>(blocks), dim3(kTile, kTile), shared>>>(
      f, impl_->statics, in.poses, mk, marker_stride, in.colors, in.scales, tiles_x, tiles, rgb,
      ids);
  check(cudaGetLastError(), "kernel launch");
}

void CudaRenderer::synchronize() const {
  check(cudaDeviceSynchronize(), "synchronize");
}

DeviceBuffer::DeviceBuffer(std::size_t bytes) : bytes_(bytes) {
  if (bytes > 0) check(cudaMalloc(&data_, bytes), "cudaMalloc");
}
DeviceBuffer::~DeviceBuffer() {
  cudaFree(data_);
}
void DeviceBuffer::upload(const void* host, std::size_t bytes) {
  assert(bytes <= bytes_ && "DeviceBuffer::upload: more bytes than the buffer holds");
  check(cudaMemcpy(data_, host, bytes, cudaMemcpyHostToDevice), "upload");
}
void DeviceBuffer::download(void* host, std::size_t bytes) const {
  assert(bytes <= bytes_ && "DeviceBuffer::download: more bytes than the buffer holds");
  check(cudaMemcpy(host, data_, bytes, cudaMemcpyDeviceToHost), "download");
}

}  // namespace parallax::sim
