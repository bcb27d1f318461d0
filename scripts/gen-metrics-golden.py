#!/usr/bin/env python3
"""Regenerates tests/data/metrics_golden.json: image pairs and their MSE, PSNR and SSIM computed
by scikit-image (the reference implementation our fidelity metrics are pinned to).

Run with the project's venv:  ~/.cache/parallax/venv-torch-2.11.0/bin/python scripts/gen-metrics-golden.py
SSIM settings: gaussian_weights=True, sigma=1.5 (11x11 window), K1=0.01, K2=0.03,
use_sample_covariance=False, data_range=1, mean over the 3 channels; images as u8/255.
"""
import json
import pathlib

import numpy as np
import skimage
from skimage.metrics import mean_squared_error, peak_signal_noise_ratio, structural_similarity

rng = np.random.default_rng(20261126)
cases = []
for name, (h, w) in [("noise_vs_noise", (16, 16)), ("blurred_gradient", (24, 20)),
                     ("shifted_square", (32, 32))]:
    if name == "noise_vs_noise":
        a = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        b = np.clip(a.astype(int) + rng.integers(-40, 41, (h, w, 3)), 0, 255).astype(np.uint8)
    elif name == "blurred_gradient":
        y, x = np.mgrid[0:h, 0:w]
        a = np.stack([x * 255 // (w - 1), y * 255 // (h - 1), (x + y) * 255 // (w + h - 2)], -1).astype(np.uint8)
        b = (a.astype(int) * 3 // 4 + 30).astype(np.uint8)
    else:
        a = np.full((h, w, 3), 20, np.uint8); a[8:20, 8:20] = (230, 60, 40)
        b = np.full((h, w, 3), 25, np.uint8); b[10:22, 9:21] = (220, 70, 50)
    fa, fb = a / 255.0, b / 255.0
    cases.append({
        "name": name, "height": h, "width": w,
        "a": a.flatten().tolist(), "b": b.flatten().tolist(),
        "mse": float(mean_squared_error(fa, fb)),
        "psnr": float(peak_signal_noise_ratio(fa, fb, data_range=1.0)),
        "ssim": float(structural_similarity(fa, fb, gaussian_weights=True, sigma=1.5,
                                            use_sample_covariance=False, data_range=1.0,
                                            channel_axis=-1)),
    })
out = pathlib.Path(__file__).resolve().parent.parent / "tests" / "data" / "metrics_golden.json"
out.write_text(json.dumps({"generator": "scripts/gen-metrics-golden.py",
                           "scikit_image": skimage.__version__, "cases": cases}) + "\n")
print(f"wrote {out}")
