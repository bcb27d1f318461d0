// Fidelity metrics between a true and a predicted frame (pinned definitions, checked against
// scikit-image in tests/agents/test_metrics.cpp). Frames are RGB u8 [H, W, 3], compared on [0, 1].
// Reference: docs/fidelity.md.
#pragma once

#include <cstdint>
#include <limits>

namespace parallax::agents {

// Mean squared error over all pixels and channels, values scaled to [0, 1].
double frame_mse(const std::uint8_t* a, const std::uint8_t* b, int height, int width);

// Peak signal-to-noise ratio in dB for data range 1: 10 log10(1 / MSE); +infinity when MSE = 0.
double psnr_from_mse(double mse);

// SSIM as skimage.metrics.structural_similarity(gaussian_weights=True, sigma=1.5,
// use_sample_covariance=False, data_range=1, channel_axis=-1): 11x11 Gaussian window
// (truncate 3.5), K1 = 0.01, K2 = 0.03, mean over the interior (5-pixel border cropped) and the
// three channels. Frames must be at least 11x11.
double frame_ssim(const std::uint8_t* a, const std::uint8_t* b, int height, int width);

}  // namespace parallax::agents
