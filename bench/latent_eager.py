"""Baseline of bench_latent: the same `latent` checkpoint in PyTorch eager at batch N.
    latent_eager.py MODEL.pt MODE N TICKS THREADS   -> prints the mean ms per tick
    MODE latent: dynamics + heads (a planner's imagined step); decoded: that plus the decoder and
    the conversion to u8 (what the viewer and the demo pay)."""
import os
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "worldmodel", "python"))
import parallax_latent as pl  # noqa: E402

path, mode, n, ticks, threads = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
torch.set_num_threads(threads)
model = pl.load_checkpoint(path)
c = model.cfg
frames = torch.rand(n, 2, 3, c["height"], c["width"])
action = torch.rand(n, c["action_size"]) * 2 - 1
with torch.no_grad():
    z, z_prev, last = model.encode_context(frames, None)
    for i in range(2 + ticks):
        if i == 2:
            t0 = time.perf_counter()
        z_prev, z = z, model.dynamics(z, z_prev, action)
        h = model.heads(z)
        pl.symexp(h[:, 0]), torch.sigmoid(h[:, 1])
        if mode == "decoded":
            (model.decoder(z, last).clamp(0, 1) * 255).round().to(torch.uint8)
print((time.perf_counter() - t0) * 1000 / ticks)
