"""Baseline of bench_unet: ms per forward of a `unet` checkpoint in PyTorch eager at batch N.
    unet_eager.py MODEL.pt N TICKS THREADS   -> prints the mean ms per tick (step + clamp + u8)."""
import os
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "worldmodel", "python"))
import parallax_unet as pu  # noqa: E402

path, n, ticks, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
torch.set_num_threads(threads)
model = pu.load_checkpoint(path)
c = model.cfg
frames = torch.rand(n, c["context_frames"], 3, c["height"], c["width"])
action = torch.rand(n, c["action_size"]) * 2 - 1
with torch.no_grad():
    for i in range(2 + ticks):
        if i == 2:
            t0 = time.perf_counter()
        nxt, r, cont = model(frames, action)
        nxt = nxt.clamp(0, 1)
        frames = torch.cat([frames[:, 1:], nxt[:, None]], dim=1)
        (nxt * 255).round().to(torch.uint8)
print((time.perf_counter() - t0) * 1000 / ticks)
