"""Baseline of bench_pose_world: the same `pose-world` checkpoint's step in PyTorch eager at
batch N (worldmodel/python/train_pose_world.py's step(): the network on the history, and the
rolling state where the checkpoint has one, rolled on).
    pose_world_eager.py MODEL.pt N TICKS THREADS   -> prints the mean ms per tick
The C++ tick also evaluates the scene's reward and continue terms on the positions (per row, on
the CPU); the eager baseline does not."""
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "worldmodel", "python"))
import train_pose_world as tpw  # noqa: E402

path, n, ticks, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
torch.set_num_threads(max(threads, 1))
ck = torch.load(path, weights_only=False)
cfg = json.loads(ck["config"])
spin = bool(cfg.get("rolling_state", False))
net = tpw.build(len(cfg["bodies"]), cfg["action_size"], cfg["hidden"], spin)
net.load_state_dict(ck["weights"])
net.eval()
hist = torch.rand(n, tpw.HISTORY, len(cfg["bodies"]), 2) * 0.6 - 0.3
acts = torch.rand(n, tpw.ACTION_HISTORY, cfg["action_size"]) * 2 - 1
roll = (hist[:, 3] - hist[:, 2]) if spin else None
carried = torch.ones(n, 1) if spin else None
with torch.no_grad():
    for i in range(2 + ticks):
        if i == 2:
            t0 = time.perf_counter()
        if spin:
            nxt, roll = tpw.step(net, hist, acts, roll, carried)
        else:
            nxt = tpw.step(net, hist, acts)
        hist = torch.cat([hist[:, 1:], nxt[:, None]], 1)
print((time.perf_counter() - t0) * 1000 / ticks)
