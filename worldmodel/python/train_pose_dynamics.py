"""Trains a pose-space dynamics model: how a body the actions push (push's cube) responds to a
body the actions drive kinematically (push's pusher), learned from recorded episodes' poses.

The model ("pose-dynamics" family, docs/agents.md "A pose-space model"): per control tick, the
pushed body's next x, y and yaw from its last two poses and the driver's position now and after
the action. Everything is expressed in the pushed body's frame: positions relative to it and
rotated by -phi, phi its yaw folded into [-45, 45) deg (a square's yaw is defined modulo 90
deg), so the network sees the same input for every symmetric copy of a state. The driver moves
as its actuator moves it (clamped action x max_speed / control_hz), which the planner computes
itself (proprioception); the network predicts only the pushed body.

  features [7]: d = R(-phi)(p_t - c_t) / 0.1 m, vp = R(-phi)(p_t+1 - p_t) / s,
                vc = R(-phi)(c_t - c_t-1) / s, w = fold(theta_t - theta_t-1) / 0.1 rad
  target   [3]: R(-phi)(c_t+1 - c_t) / s, fold(theta_t+1 - theta_t) / 0.1 rad
  s = max_speed / control_hz (the driver's largest step); fold wraps into [-45, 45) deg.
  network: Linear(7, H) SiLU Linear(H, H) SiLU Linear(H, H) SiLU Linear(H, 3), last layer zero
  (an untrained model predicts that nothing moves).

Training: open-loop rollouts of the model over windows of the recorded episodes (the driver's
true positions, the pushed body's own predictions fed back), MSE on the scaled targets per step;
`--rollout` is the window length (1: one-step). Held-out episodes give the pushed body's position
error at t+1, t+5 and t+15 next to "nothing moves" (it stays where it was), over all windows and
over the windows where it moves more than 1 cm.

Checkpoint (torch.save): {"parallax_format": "parallax-model/2", "family": "pose-dynamics",
"config": JSON text, "weights": {name: tensor}}; config: scene, driver, pushed, hidden, step_m
(s), position_scale_m (0.1), yaw_scale_rad (0.1), plus the training log's summary. Resumable
(--resume: the state file OUT.state next to it), temp file + rename.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train_common import parse_rollout, save_model_file  # noqa: E402

FORMAT = "parallax-model/2"
FAMILY = "pose-dynamics"
POS_SCALE = 0.1  # m
YAW_SCALE = 0.1  # rad


def fail(msg: str, code: int = 1):
    print(f"train_pose_dynamics: error: {msg}", file=sys.stderr)
    sys.exit(code)


def yaw_of(q):
    x, y, z, w = q[..., 0], q[..., 1], q[..., 2], q[..., 3]
    return np.arctan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z))


def load_dataset(folder: str, limit: int | None = None):
    """Episodes' driver xy [T+1, 2], pushed xy [T+1, 2] and yaw [T+1] (float64), and the scene."""
    import h5py

    base = folder.rstrip("/")
    meta_path = base + "/data/metadata.json"
    if not os.path.isfile(meta_path):
        fail(f"{folder}: no data/metadata.json (not a dataset folder)")
    meta = json.load(open(meta_path))
    scene = json.loads(meta.get("scene_json", "{}"))
    names = [b["name"] for b in scene.get("bodies", [])]
    path = base + "/data/main_data.hdf5"
    try:
        with h5py.File(path, "r") as f:
            keys = sorted(f.keys(), key=lambda s: int(s.split("_")[1]))[:limit]
            eps = []
            for k in keys:
                g = f[k]
                if "infos/poses" not in g:
                    fail(f"{path}: {k} has no infos/poses")
                poses = g["infos/poses"][...].astype(np.float64)
                if poses.ndim != 3 or poses.shape[2] != 7 or poses.shape[1] != len(names):
                    fail(f"{path}: {k}/infos/poses has shape {poses.shape}, expected "
                         f"[T+1, {len(names)}, 7]")
                if not np.isfinite(poses).all():
                    fail(f"{path}: {k}/infos/poses holds non-finite values")
                eps.append(poses)
    except (OSError, KeyError, ValueError, IndexError) as e:
        fail(f"{path}: not a readable dataset ({str(e).splitlines()[0] if str(e) else type(e).__name__})")
    return eps, scene, names


def fold(a):
    """Angle [rad] into [-pi/4, pi/4): a square's yaw."""
    return (a + math.pi / 4) % (math.pi / 2) - math.pi / 4


def build(hidden: int):
    import torch.nn as nn

    net = nn.Sequential(nn.Linear(7, hidden), nn.SiLU(), nn.Linear(hidden, hidden), nn.SiLU(),
                        nn.Linear(hidden, hidden), nn.SiLU(), nn.Linear(hidden, 3))
    nn.init.zeros_(net[-1].weight)
    nn.init.zeros_(net[-1].bias)
    return net


def step(net, p, pn, c, cp, th, thp, s):
    """One tick for a batch: p, pn, c, cp [B, 2]; th, thp [B] -> (c_next [B, 2], th_next [B])."""
    import torch

    phi = torch.remainder(th + math.pi / 4, math.pi / 2) - math.pi / 4
    co, si = torch.cos(phi), torch.sin(phi)

    def to_body(v):  # R(-phi) v
        return torch.stack([co * v[:, 0] + si * v[:, 1], -si * v[:, 0] + co * v[:, 1]], 1)

    dth = torch.remainder(th - thp + math.pi / 4, math.pi / 2) - math.pi / 4
    x = torch.cat([to_body(p - c) / POS_SCALE, to_body(pn - p) / s, to_body(c - cp) / s,
                   (dth / YAW_SCALE)[:, None]], 1)
    y = net(x)
    dc = torch.stack([co * y[:, 0] - si * y[:, 1], si * y[:, 0] + co * y[:, 1]], 1) * s
    return c + dc, th + y[:, 2] * YAW_SCALE


def windows(eps, driver, pushed, length):
    """All windows of `length` ticks: (start, episode) with one tick of history before."""
    out = []
    for i, e in enumerate(eps):
        t_max = e.shape[0] - 1 - length
        for t in range(0, t_max + 1):
            out.append((i, t))
    return out


def batch(eps, idx, driver, pushed, length):
    """Tensors for windows idx: P [B, L+1, 2], C [B, L+1, 2], TH [B, L+1], C_prev, TH_prev."""
    import torch

    P = np.stack([eps[i][t:t + length + 1, driver, :2] for i, t in idx])
    C = np.stack([eps[i][t:t + length + 1, pushed, :2] for i, t in idx])
    TH = np.stack([yaw_of(eps[i][t:t + length + 1, pushed, 3:7]) for i, t in idx])
    CP = np.stack([eps[i][max(t - 1, 0), pushed, :2] for i, t in idx])
    THP = np.array([yaw_of(eps[i][max(t - 1, 0), pushed, 3:7]) for i, t in idx])
    f = lambda a: torch.tensor(a, dtype=torch.float32)  # noqa: E731
    return f(P), f(C), f(TH), f(CP), f(THP)


def rollout_loss(net, P, C, TH, CP, THP, s):
    """Open loop over the window: mean over steps of the scaled squared errors."""
    import torch

    c, cp, th, thp = C[:, 0], CP, TH[:, 0], THP
    loss = 0.0
    L = P.shape[1] - 1
    for h in range(L):
        cn, thn = step(net, P[:, h], P[:, h + 1], c, cp, th, thp, s)
        e_pos = ((cn - C[:, h + 1]) / s).pow(2).sum(1)
        e_yaw = (torch.remainder(thn - TH[:, h + 1] + math.pi / 4, math.pi / 2) - math.pi / 4) / YAW_SCALE
        loss = loss + (e_pos + e_yaw.pow(2)).mean()
        cp, thp, c, th = c, th, cn, thn
    return loss / L


def evaluate(net, eps, driver, pushed, s, horizons=(1, 5, 15), max_windows=4000, seed=0):
    """Pushed body's position error [cm] at each horizon, model and 'nothing moves', over all
    windows and over those where it moves > 1 cm by the horizon."""
    import torch

    L = max(horizons)
    w = windows(eps, driver, pushed, L)
    rng = np.random.default_rng(seed)
    if len(w) > max_windows:
        w = [w[i] for i in rng.choice(len(w), max_windows, replace=False)]
    P, C, TH, CP, THP = batch(eps, w, driver, pushed, L)
    out = {}
    with torch.no_grad():
        c, cp, th, thp = C[:, 0], CP, TH[:, 0], THP
        for h in range(1, L + 1):
            cn, thn = step(net, P[:, h - 1], P[:, h], c, cp, th, thp, s)
            cp, thp, c, th = c, th, cn, thn
            if h in horizons:
                err = (c - C[:, h]).norm(dim=1) * 100
                still = (C[:, 0] - C[:, h]).norm(dim=1) * 100
                moving = still > 1.0
                yaw_err = (torch.remainder(th - TH[:, h] + math.pi / 4, math.pi / 2) - math.pi / 4).abs()
                out[f"t+{h}"] = {
                    "model_cm": float(err.mean()), "still_cm": float(still.mean()),
                    "moving_model_cm": float(err[moving].mean()) if moving.any() else 0.0,
                    "moving_still_cm": float(still[moving].mean()) if moving.any() else 0.0,
                    "moving_fraction": float(moving.float().mean()),
                    "yaw_err_deg": float(yaw_err.mean() * 180 / math.pi),
                }
    return out


def save_checkpoint(path, net, config):
    save_model_file(path, FAMILY, net, config)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", required=True, help="comma-separated dataset folders")
    p.add_argument("--data-weights", default="", help="comma-separated sampling weights per folder")
    p.add_argument("--eval-data", default="", help="held-out dataset folders")
    p.add_argument("--eval-episodes", type=int, default=48)
    p.add_argument("--driver", default="pusher")
    p.add_argument("--pushed", default="cube")
    p.add_argument("--hidden", type=int, default=128)
    p.add_argument("--steps", type=int, default=6000)
    p.add_argument("--batch", type=int, default=512)
    p.add_argument("--rollout", default="1:0.3,5:0.6,15:1",
                   help="LEN:UNTIL,...: window length up to each fraction of the steps")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--lr-final", type=float, default=3e-5)
    p.add_argument("--eval-every", type=int, default=1000)
    p.add_argument("--checkpoint-every", type=int, default=500)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--max-seconds", type=float, default=0)
    p.add_argument("--log", default="")
    p.add_argument("--resume", action="store_true")
    p.add_argument("--out", required=True)
    args = p.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    if args.hidden < 8 or args.hidden > 4096:
        fail(f"--hidden must be in [8, 4096], got {args.hidden}", 2)
    if args.steps < 1:
        fail(f"--steps must be >= 1, got {args.steps}", 2)
    stages = parse_rollout(args.rollout, fail)

    folders = [d for d in args.data.split(",") if d]
    weights = [float(x) for x in args.data_weights.split(",")] if args.data_weights else [1.0] * len(folders)
    if len(weights) != len(folders):
        fail(f"--data-weights: {len(weights)} weights for {len(folders)} folders", 2)
    data, scene, names = [], None, None
    for folder in folders:
        eps, sc, nm = load_dataset(folder)
        if scene is None:
            scene, names = sc, nm
        elif sc.get("name") != scene.get("name"):
            fail(f"{folder}: scene '{sc.get('name')}' differs from '{scene.get('name')}'")
        data.append(eps)
    for body in (args.driver, args.pushed):
        if body not in names:
            fail(f"--driver/--pushed: scene '{scene.get('name')}' has no body '{body}'", 2)
    driver, pushed = names.index(args.driver), names.index(args.pushed)
    act = [a for a in scene.get("actuators", []) if a.get("body") == args.driver]
    if not act or act[0].get("type") != "planar_velocity":
        fail(f"scene '{scene.get('name')}': body '{args.driver}' is not driven by a planar_velocity actuator", 2)
    s = float(act[0]["max_speed"]) / float(scene["control_hz"])
    held = []
    for folder in [d for d in args.eval_data.split(",") if d]:
        held += load_dataset(folder, args.eval_episodes)[0]

    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    net = build(args.hidden)
    opt = torch.optim.Adam(net.parameters(), lr=args.lr)
    state_path = args.out + ".state"
    start = 0
    if args.resume and os.path.isfile(state_path):
        st = torch.load(state_path, weights_only=False)
        net.load_state_dict(st["net"])
        opt.load_state_dict(st["opt"])
        start = st["step"]
        rng = np.random.default_rng(st["rng_seed"] + start)
    config = {"scene": scene.get("name"), "driver": args.driver, "pushed": args.pushed,
              "hidden": args.hidden, "step_m": s, "position_scale_m": POS_SCALE,
              "yaw_scale_rad": YAW_SCALE, "layers": 4, "activation": "silu"}
    log = open(args.log, "a") if args.log else None

    def emit(rec):
        line = json.dumps(rec)
        print(line, flush=True)
        if log:
            log.write(line + "\n")
            log.flush()

    win_cache = {}
    probs = np.array(weights) / np.sum(weights)
    t0 = time.time()
    step_i = start
    while step_i < args.steps:
        frac = step_i / args.steps
        length = next(n for n, until in stages if frac < until or until >= 1.0)
        if length not in win_cache:
            win_cache[length] = [windows(eps, driver, pushed, length) for eps in data]
        lr = args.lr_final + 0.5 * (args.lr - args.lr_final) * (1 + math.cos(math.pi * frac))
        for g in opt.param_groups:
            g["lr"] = lr
        which = rng.choice(len(data), args.batch, p=probs)
        idx = []
        for d in which:
            w = win_cache[length][d]
            i, t = w[rng.integers(len(w))]
            idx.append((i, t))
        # batch() takes one episode list; group per dataset
        Ps, Cs, THs, CPs, THPs = [], [], [], [], []
        for d in np.unique(which):
            sel = [idx[j] for j in range(len(idx)) if which[j] == d]
            P, C, TH, CP, THP = batch(data[d], sel, driver, pushed, length)
            Ps.append(P), Cs.append(C), THs.append(TH), CPs.append(CP), THPs.append(THP)
        P, C, TH, CP, THP = (torch.cat(x) for x in (Ps, Cs, THs, CPs, THPs))
        loss = rollout_loss(net, P, C, TH, CP, THP, s)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 10.0)
        opt.step()
        step_i += 1
        if step_i % 100 == 0:
            emit({"step": step_i, "loss": float(loss), "rollout": length, "lr": lr,
                  "seconds": round(time.time() - t0, 1)})
        if held and (step_i % args.eval_every == 0 or step_i == args.steps):
            emit({"step": step_i, "eval": evaluate(net, held, driver, pushed, s)})
        if step_i % args.checkpoint_every == 0 or step_i == args.steps:
            save_checkpoint(args.out, net, config)
            tmp = state_path + ".tmp"
            torch.save({"net": net.state_dict(), "opt": opt.state_dict(), "step": step_i,
                        "rng_seed": args.seed}, tmp)
            os.replace(tmp, state_path)
        if args.max_seconds and time.time() - t0 > args.max_seconds:
            save_checkpoint(args.out, net, config)
            emit({"step": step_i, "stopped": "max-seconds"})
            return
    save_checkpoint(args.out, net, config)


if __name__ == "__main__":
    main()
