// CPU path of the batch renderer: rows of all environments split over the worker pool.
#include <cassert>
#include <stdexcept>
#include <utility>

#include "parallax/sim/renderer.hpp"
#include "parallax/sim/thread_pool.hpp"
#include "render_kernel.hpp"
#include "render_setup.hpp"

namespace parallax::sim {
namespace {

// One render() call's inputs (layouts in renderer.hpp).
struct Inputs {
  const float* poses;    // [N, K, 7] f32
  const float* markers;  // [N, M, 3] f32, or the nominal [M, 3] with marker_stride 0
  int marker_stride;     // floats between environments in `markers`
  const float* colors;   // [N, K, 3] f32 or null
  const float* scales;   // [N, K] f32 or null
};

// The kernel's view of RenderInputs: nominal markers (stride 0) when none are given.
Inputs resolve(const RenderSetup& s, const RenderInputs& in) {
  return Inputs{in.poses, in.markers ? in.markers : s.nominal_markers.data(),
                in.markers ? 3 * s.frame.num_markers : 0, in.colors, in.scales};
}

// Builds the world-space primitives of environment `env`: prims [K + M].
void build_env(const RenderSetup& s, int env, const Inputs& in, rk::Prim* prims) {
  const int k = s.frame.num_bodies, m = s.frame.num_markers;
  const std::ptrdiff_t e = env;
  for (int i = 0; i < k; ++i) {
    const float* color = in.colors ? in.colors + (e * k + i) * 3 : nullptr;
    const float scale = in.scales ? in.scales[e * k + i] : 1.f;
    rk::build_prim(s.frame, s.prims[i], in.poses + (e * k + i) * 7, i + 1, color, scale, &prims[i]);
  }
  for (int j = 0; j < m; ++j) {
    rk::build_prim(s.frame, s.prims[k + j], in.markers + e * in.marker_stride + 3 * j, k + 1 + j,
                   nullptr, 1.f, &prims[k + j]);
  }
}

// Renders rows [begin, end) of the flattened (env, row) index; kCount adds ray tests to *tests.
template <bool kCount>
void render_rows(const RenderSetup& s, int begin, int end, const Inputs& in, std::uint8_t* rgb,
                 std::uint8_t* ids, long long* tests) {
  // A local copy: the u8 stores below may alias anything reachable through a reference, which
  // would make the compiler reload every frame field per pixel.
  const rk::Frame f = s.frame;
  const int w = f.width, h = f.height;
  rk::Prim prims[rk::kMaxPrims];  // this environment's primitives, rebuilt when env changes
  int built = -1;
  for (int item = begin; item < end; ++item) {
    const int env = item / h, row = item % h;
    if (env != built) {
      build_env(s, env, in, prims);
      built = env;
    }
    const std::ptrdiff_t pixel0 = static_cast<std::ptrdiff_t>(item) * w;  // == (env*h + row)*w
    std::uint8_t* rgb_row = rgb ? rgb + pixel0 * 3 : nullptr;
    std::uint8_t* id_row = ids ? ids + pixel0 : nullptr;
    const rk::F3* rays =
        s.rays.empty() ? nullptr : s.rays.data() + static_cast<std::ptrdiff_t>(row) * w * f.spp;
    std::uint8_t scratch[3];
    for (int x = 0; x < w; ++x) {
      rk::render_pixel<kCount>(f, prims, x, row, rays ? rays + x * f.spp : nullptr,
                               rgb_row ? rgb_row + 3 * x : scratch, id_row ? id_row + x : nullptr,
                               tests);
    }
  }
}

}  // namespace

Renderer::Renderer(std::shared_ptr<const SceneModel> scene, RenderOptions options)
    : scene_(std::move(scene)), options_(options) {
  assert(scene_ != nullptr && "Renderer: scene must not be null");
  setup_ = std::make_unique<RenderSetup>(make_render_setup(*scene_, options_));
  options_.width = setup_->frame.width;
  options_.height = setup_->frame.height;
  if (options_.threads > 1) pool_ = std::make_unique<ThreadPool>(options_.threads);
}

Renderer::~Renderer() = default;

int Renderer::width() const {
  return setup_->frame.width;
}
int Renderer::height() const {
  return setup_->frame.height;
}
int Renderer::num_bodies() const {
  return setup_->frame.num_bodies;
}
int Renderer::num_markers() const {
  return setup_->frame.num_markers;
}

void Renderer::render(const RenderInputs& inputs, std::uint8_t* rgb, std::uint8_t* ids) const {
  const int n = inputs.n;
  assert(n >= 0 && "Renderer::render: n must be >= 0");
  assert((inputs.poses != nullptr || num_bodies() == 0) &&
         "Renderer::render: poses [N, K, 7] is null");
  assert(rgb != nullptr && "Renderer::render: rgb [N, H, W, 3] must not be null");
  if (n == 0) return;
  const Inputs in = resolve(*setup_, inputs);
  const int items = n * height();  // (env, row) pairs, split in contiguous chunks
  auto work = [&](int begin, int end, int /*worker*/) {
    render_rows<false>(*setup_, begin, end, in, rgb, ids, nullptr);
  };
  if (pool_) {
    pool_->parallel_for(items, work);
  } else {
    work(0, items, 0);
  }
}

std::int64_t Renderer::count_ray_tests(const RenderInputs& inputs) const {
  const Inputs in = resolve(*setup_, inputs);
  long long tests = 0;
  render_rows<true>(*setup_, 0, inputs.n * height(), in, nullptr, nullptr, &tests);
  return tests;
}

std::unique_ptr<BatchRenderer> make_renderer(const std::string& device,
                                             std::shared_ptr<const SceneModel> scene,
                                             RenderOptions options) {
  if (device == "cpu") return std::make_unique<Renderer>(std::move(scene), options);
  if (device == "cuda") return std::make_unique<CudaRenderer>(std::move(scene), options);
  throw std::invalid_argument("render device \"" + device + "\": unknown (expected cpu or cuda)");
}

#if !defined(PARALLAX_HAVE_CUDA) || !__has_include("render_cuda.cu")
bool cuda_renderer_available() {
  return false;
}

struct CudaRenderer::Impl {};
CudaRenderer::CudaRenderer(std::shared_ptr<const SceneModel>, RenderOptions) {
  throw std::runtime_error("built without CUDA");
}
CudaRenderer::~CudaRenderer() = default;
int CudaRenderer::width() const {
  return 0;
}
int CudaRenderer::height() const {
  return 0;
}
int CudaRenderer::num_bodies() const {
  return 0;
}
int CudaRenderer::num_markers() const {
  return 0;
}
void CudaRenderer::render(const RenderInputs&, std::uint8_t*, std::uint8_t*) const {
  throw std::runtime_error("built without CUDA");
}
void CudaRenderer::synchronize() const {
  throw std::runtime_error("built without CUDA");
}

DeviceBuffer::DeviceBuffer(std::size_t) {
  throw std::runtime_error("built without CUDA");
}
DeviceBuffer::~DeviceBuffer() = default;
void DeviceBuffer::upload(const void*, std::size_t) {
  throw std::runtime_error("built without CUDA");
}
void DeviceBuffer::download(void*, std::size_t) const {
  throw std::runtime_error("built without CUDA");
}
#endif

}  // namespace parallax::sim
