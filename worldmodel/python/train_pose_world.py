"""Trains a pose-space world model of rolling bodies (billiards' balls): where every dynamic
sphere of a scene goes next under the actions, learned from recorded episodes' poses.

The model ("pose-world" family, docs/worldmodel.md "The pose-world family"): per control tick, the
next x, y of all P modelled bodies at once from their last four positions and the last three
actions (the one being taken and the two before it). The displacement a body made over the last
tick is its mean velocity over that tick, not its velocity now: the force of the action before
it and whether the ball still slides or already rolls (its spin, which no frame shows) are read
from the history. One MLP sees every body (collisions between them and with the walls are its
job):

  features [8P + 3A] = p_t / 0.5 m, (p_t - p_t-1) / s, (p_t-1 - p_t-2) / s, (p_t-2 - p_t-3) / s,
                       a_t-2, a_t-1, a_t (clamped to [-1, 1])
  output   [2P]      = ((p_t+1 - p_t) - (p_t - p_t-1)) / s   (the change of the displacement)
  s = 0.01 m; Linear(8P + 3A, H) SiLU Linear(H, H) SiLU Linear(H, H) SiLU Linear(H, 2P), the
  last layer zero (an untrained model extrapolates every body at constant velocity).

With --spin each body also carries a rolling state: its rolling displacement, the displacement its
spin alone would roll it over a tick (r (theta x z) for the tick's rotation vector theta; a rolling
ball's equals its displacement, the difference is its slip). The network reads it (/ s) and a
carried flag (0 at a window's first step, where the state is taken as the last displacement, as
the C++ side does when it reads frames; 1 after) and writes its change after the positions'
(inputs 8P + 3A + 2P + 1, outputs 4P); the loss adds --spin-weight x its squared error [mm^2]
against the one recomputed from the recorded quaternions (rolling_displacement()). --init grows a
plain checkpoint into it (the new weights zero).

Before an episode's first tick the bodies rest: the history repeats the first positions and the
actions before it are zero. Perception (x, y from frames) and drawing (frames from x, y) are not
learned: the C++ side reads the bodies by rendering and comparing and draws them with the scene's
renderer (agents/pose_world_model.hpp).

Training: open-loop rollouts over windows of the recorded episodes (true actions, the model's own
positions fed back), the squared error of every body's position per step in millimetres;
`--rollout` sets the window length per stage. Held-out episodes give each body's position error
[cm] at t+1, t+5, t+10 and t+30 next to "nothing moves" and constant velocity.

Checkpoint (torch.save): {"parallax_format": "parallax-model/2", "family": "pose-world",
"config": JSON text, "weights": {name: tensor}}; config: scene, bodies, action_size, hidden,
history (4), action_history (3), step_m (s), position_scale_m (0.5), rolling_state (with --spin). Resumable (--resume: the
state file OUT.state next to it), temp file + rename.
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
FAMILY = "pose-world"
STEP_M = 0.01  # s
POS_SCALE = 0.5  # m
HISTORY = 4  # positions
ACTION_HISTORY = 3  # actions (a_t-2, a_t-1, a_t)


def fail(msg: str, code: int = 1):
    print(f"train_pose_world: error: {msg}", file=sys.stderr)
    sys.exit(code)


def dynamic_spheres(scene: dict):
    """Names of the scene's dynamic bodies; refuses a scene whose dynamic bodies are not all
    spheres (the family draws and reads spheres only)."""
    out = []
    for b in scene.get("bodies", []):
        if float(b.get("mass", 0.0)) <= 0.0 or b.get("kinematic", False):
            continue
        if b.get("shape") != "sphere":
            fail(f"scene '{scene.get('name')}': dynamic body '{b.get('name')}' is a "
                 f"{b.get('shape')}; the pose-world family models spheres only", 2)
        out.append(b["name"])
    if not out:
        fail(f"scene '{scene.get('name')}' has no dynamic body to model", 2)
    return out


def _qmul(a, b):
    x1, y1, z1, w1 = np.moveaxis(a, -1, 0)
    x2, y2, z2, w2 = np.moveaxis(b, -1, 0)
    return np.stack([w1 * x2 + x1 * w2 + y1 * z2 - z1 * y2, w1 * y2 - x1 * z2 + y1 * w2 + z1 * x2,
                     w1 * z2 + x1 * y2 - y1 * x2 + z1 * w2, w1 * w2 - x1 * x2 - y1 * y2 - z1 * z2], -1)


def rolling_displacement(poses, radii):
    """Per tick and body, the displacement the body's spin alone would roll it over the tick ending
    there: r (theta x z) for the rotation vector theta of the tick (world frame, from the recorded
    quaternions x y z w), [T+1, K, 2] in m, 0 at the first pose (bodies rest at reset). A rolling
    ball's equals its displacement; the difference is its slip."""
    q = poses[:, :, 3:7]
    rel = _qmul(q[1:], q[:-1] * np.array([-1.0, -1.0, -1.0, 1.0]))
    rel = rel * np.where(rel[..., 3:4] < 0, -1.0, 1.0)
    s = np.linalg.norm(rel[..., :3], axis=-1, keepdims=True)
    angle = 2.0 * np.arctan2(s, rel[..., 3:4])
    theta = np.where(s > 1e-12, rel[..., :3] / np.maximum(s, 1e-30) * angle, 2.0 * rel[..., :3])
    out = np.zeros(poses.shape[:2] + (2,))
    out[1:] = radii[None, :, None] * np.stack([theta[..., 1], -theta[..., 0]], -1)
    return out


def load_dataset(folder: str, limit: int | None = None):
    """Episodes as (positions [T+1, K, 2], actions [T, A], rolling displacements [T+1, K, 2])
    float64, the scene and its body names."""
    import h5py

    base = folder.rstrip("/")
    meta_path = base + "/data/metadata.json"
    if not os.path.isfile(meta_path):
        fail(f"{folder}: no data/metadata.json (not a dataset folder)")
    try:
        meta = json.load(open(meta_path))
        scene = json.loads(meta.get("scene_json", "{}"))
    except (OSError, ValueError) as e:
        fail(f"{meta_path}: not readable JSON ({e})")
    names = [b["name"] for b in scene.get("bodies", [])]
    radii = np.array([float(b.get("radius", 0.0)) for b in scene.get("bodies", [])])
    path = base + "/data/main_data.hdf5"
    try:
        with h5py.File(path, "r") as f:
            keys = sorted(f.keys(), key=lambda s: int(s.split("_")[1]))[:limit]
            eps = []
            for k in keys:
                g = f[k]
                for field in ("infos/poses", "actions"):
                    if field not in g:
                        fail(f"{path}: {k} has no {field}")
                poses = g["infos/poses"][...].astype(np.float64)
                acts = g["actions"][...].astype(np.float64)
                if poses.ndim != 3 or poses.shape[2] != 7 or poses.shape[1] != len(names):
                    fail(f"{path}: {k}/infos/poses has shape {poses.shape}, expected "
                         f"[T+1, {len(names)}, 7]")
                if acts.ndim != 2 or acts.shape[0] != poses.shape[0] - 1:
                    fail(f"{path}: {k}/actions has shape {acts.shape}, expected "
                         f"[{poses.shape[0] - 1}, A]")
                if not np.isfinite(poses).all():
                    fail(f"{path}: {k}/infos/poses holds non-finite values")
                if not np.isfinite(acts).all():
                    fail(f"{path}: {k}/actions holds non-finite values")
                eps.append((poses[:, :, :2], np.clip(acts, -1.0, 1.0),
                            rolling_displacement(poses, radii)))
    except (OSError, KeyError, ValueError, IndexError) as e:
        fail(f"{path}: not a readable dataset ({str(e).splitlines()[0] if str(e) else type(e).__name__})")
    return eps, scene, names


def build(bodies: int, action_size: int, hidden: int, spin: bool = False):
    import torch.nn as nn

    n_in = 2 * bodies * HISTORY + action_size * ACTION_HISTORY + (2 * bodies + 1 if spin else 0)
    n_out = 4 * bodies if spin else 2 * bodies
    net = nn.Sequential(nn.Linear(n_in, hidden), nn.SiLU(), nn.Linear(hidden, hidden), nn.SiLU(),
                        nn.Linear(hidden, hidden), nn.SiLU(), nn.Linear(hidden, n_out))
    nn.init.zeros_(net[-1].weight)
    nn.init.zeros_(net[-1].bias)
    return net


def step(net, hist, acts, roll=None, carried=None):
    """One tick: hist [B, 4, P, 2] (oldest first), acts [B, 3, A] (a_t-2, a_t-1, a_t) ->
    positions at t+1 [B, P, 2]. With the rolling state (--spin): roll [B, P, 2] (m) and carried
    [B, 1] in, (positions, rolling displacement at t+1) out."""
    import torch

    B = hist.shape[0]
    p = hist[:, 3]
    d = [(hist[:, 3 - j] - hist[:, 2 - j]) / STEP_M for j in range(3)]
    parts = [(p / POS_SCALE).reshape(B, -1)] + [v.reshape(B, -1) for v in d] + [acts.reshape(B, -1)]
    if roll is not None:
        parts += [(roll / STEP_M).reshape(B, -1), carried]
    out = net(torch.cat(parts, 1))
    n = p.shape[1] * 2
    nxt = p + (p - hist[:, 2]) + out[:, :n].reshape(p.shape) * STEP_M
    if roll is None:
        return nxt
    return nxt, roll + out[:, n:].reshape(p.shape) * STEP_M


def padded(ep):
    """Positions with 3 resting copies of the first before it, actions with 2 zero rows before,
    rolling displacements with 3 zero rows before."""
    P, A, R = ep
    return (np.concatenate([np.repeat(P[:1], HISTORY - 1, 0), P], 0),
            np.concatenate([np.zeros((ACTION_HISTORY - 1, A.shape[1])), A], 0),
            np.concatenate([np.zeros((HISTORY - 1,) + R.shape[1:]), R], 0))


def windows(eps, length, stride=1):
    """(episode, t): rollouts of `length` ticks from tick t (t + length <= T)."""
    return [(i, t) for i, (_, A, _) in enumerate(eps) for t in range(0, A.shape[0] - length + 1, stride)]


def batch(eps_padded, idx, length, bodies):
    """Positions [B, 3 + 1 + length, P, 2], actions [B, 2 + length, A] and rolling displacements
    [B, 3 + 1 + length, P, 2] for windows idx."""
    import torch

    P = np.stack([eps_padded[i][0][t:t + HISTORY + length][:, bodies] for i, t in idx])
    A = np.stack([eps_padded[i][1][t:t + ACTION_HISTORY - 1 + length] for i, t in idx])
    R = np.stack([eps_padded[i][2][t:t + HISTORY + length][:, bodies] for i, t in idx])
    f = torch.float32
    return torch.tensor(P, dtype=f), torch.tensor(A, dtype=f), torch.tensor(R, dtype=f)


def rollout(net, P, A, length, spin=False):
    """Open loop from the history P[:, :4]: positions [B, length, P, 2] and, with the rolling
    state, its values [B, length, P, 2] (else None). The rolling state starts as the last
    displacement (the bodies taken to roll), flagged not carried; from the first step on it is
    the model's own."""
    import torch

    hist = P[:, :HISTORY]
    roll = carried = None
    if spin:
        roll = hist[:, HISTORY - 1] - hist[:, HISTORY - 2]
        carried = torch.zeros(P.shape[0], 1)
    out, rolls = [], []
    for k in range(length):
        if spin:
            n, roll = step(net, hist, A[:, k:k + ACTION_HISTORY], roll, carried)
            carried = torch.ones(P.shape[0], 1)
            rolls.append(roll)
        else:
            n = step(net, hist, A[:, k:k + ACTION_HISTORY])
        out.append(n)
        hist = torch.cat([hist[:, 1:], n[:, None]], 1)
    return torch.stack(out, 1), (torch.stack(rolls, 1) if spin else None)


def evaluate(net, eps_padded, bodies, names, spin=False, horizons=(1, 5, 10, 30), stride=5):
    """Per body and horizon: mean position error [cm] of the model, 'nothing moves' and constant
    velocity, over held-out windows starting every `stride` ticks."""
    import torch

    L = max(horizons)
    idx = windows([(p[HISTORY - 1:], a[ACTION_HISTORY - 1:], r) for p, a, r in eps_padded], L, stride)
    if not idx:
        return {}
    P, A, _ = batch(eps_padded, idx, L, bodies)
    with torch.no_grad():
        pred, _ = rollout(net, P, A, L, spin)
    truth = P[:, HISTORY:]
    last, prev = P[:, HISTORY - 1], P[:, HISTORY - 2]
    out = {}
    for h in horizons:
        cv = last + h * (last - prev)
        row = {}
        for j, name in enumerate(names):
            row[name] = {
                "model_cm": round(float((pred[:, h - 1, j] - truth[:, h - 1, j]).norm(dim=1).mean()) * 100, 4),
                "nothing_moves_cm": round(float((last[:, j] - truth[:, h - 1, j]).norm(dim=1).mean()) * 100, 4),
                "constant_velocity_cm": round(float((cv[:, j] - truth[:, h - 1, j]).norm(dim=1).mean()) * 100, 4),
            }
        out[f"t+{h}"] = row
    out["windows"] = len(idx)
    return out


def save_checkpoint(path, net, config):
    save_model_file(path, FAMILY, net, config)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", required=True, help="comma-separated dataset folders")
    p.add_argument("--eval-data", default="", help="held-out dataset folders")
    p.add_argument("--eval-episodes", type=int, default=24, help="per held-out folder")
    p.add_argument("--hidden", type=int, default=256)
    p.add_argument("--steps", type=int, default=8000)
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--rollout", default="1:0.2,4:0.5,8:1",
                   help="LEN:UNTIL,...: window length up to each fraction of the steps")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--lr-final", type=float, default=1e-5)
    p.add_argument("--eval-every", type=int, default=1000)
    p.add_argument("--checkpoint-every", type=int, default=500)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--max-seconds", type=float, default=0)
    p.add_argument("--log", default="")
    p.add_argument("--init", default="", help="start from this pose-world checkpoint's weights "
                   "(same bodies and hidden size; a fine-tuning stage)")
    p.add_argument("--spin", action="store_true",
                   help="carry a rolling state per body (the displacement its spin alone would "
                   "roll it per tick), supervised by the recorded orientations")
    p.add_argument("--spin-weight", type=float, default=0.3,
                   help="weight of the rolling state's squared error [mm^2] in the loss")
    p.add_argument("--resume", action="store_true")
    p.add_argument("--out", required=True)
    args = p.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    if args.hidden < 8 or args.hidden > 4096:
        fail(f"--hidden must be in [8, 4096], got {args.hidden}", 2)
    if args.steps < 1:
        fail(f"--steps must be >= 1, got {args.steps}", 2)
    if args.batch < 1:
        fail(f"--batch must be >= 1, got {args.batch}", 2)
    stages = parse_rollout(args.rollout, fail)

    data, scene, names = [], None, None
    for folder in [d for d in args.data.split(",") if d]:
        eps, sc, nm = load_dataset(folder)
        if scene is None:
            scene, names = sc, nm
        elif sc.get("name") != scene.get("name"):
            fail(f"{folder}: scene '{sc.get('name')}' differs from '{scene.get('name')}'")
        data += eps
    if not data:
        fail("--data: no episodes", 2)
    modelled = dynamic_spheres(scene)
    bodies = [names.index(n) for n in modelled]
    action_size = data[0][1].shape[1]
    held = []
    for folder in [d for d in args.eval_data.split(",") if d]:
        eps, sc, _ = load_dataset(folder, args.eval_episodes)
        if sc.get("name") != scene.get("name"):
            fail(f"{folder}: scene '{sc.get('name')}' differs from '{scene.get('name')}'")
        held += eps
    data_p = [padded(e) for e in data]
    held_p = [padded(e) for e in held]

    torch.manual_seed(args.seed)
    net = build(len(bodies), action_size, args.hidden, args.spin)
    if args.init:
        try:
            ck = torch.load(args.init, weights_only=False)
            init_cfg = json.loads(ck["config"])
        except (OSError, KeyError, ValueError, RuntimeError) as e:
            fail(f"--init {args.init}: not a readable checkpoint ({str(e).splitlines()[0] if str(e) else type(e).__name__})")
        if ck.get("family") != FAMILY:
            fail(f"--init {args.init}: family '{ck.get('family')}', expected '{FAMILY}'")
        init_spin = bool(init_cfg.get("rolling_state", False))
        if (init_cfg.get("bodies") != modelled or init_cfg.get("hidden") != args.hidden or
                (init_spin and not args.spin)):
            fail(f"--init {args.init}: bodies {init_cfg.get('bodies')}, hidden {init_cfg.get('hidden')} "
                 f"and rolling_state {init_spin} do not fit this run's {modelled}, {args.hidden} "
                 f"and {args.spin}", 2)
        if args.spin and not init_spin:
            # Grown to the rolling state: the new inputs' and outputs' weights start at zero, so
            # the model starts as the checkpoint's (its rolling state constant, unread).
            w = ck["weights"]
            with torch.no_grad():
                sd = net.state_dict()
                for k, v in w.items():
                    sd[k].zero_()
                    sd[k][tuple(slice(0, n) for n in v.shape)] = v
                net.load_state_dict(sd)
        else:
            net.load_state_dict(ck["weights"])
    opt = torch.optim.Adam(net.parameters(), lr=args.lr)
    rng = np.random.default_rng(args.seed)
    state_path = args.out + ".state"
    start = 0
    if args.resume and os.path.isfile(state_path):
        st = torch.load(state_path, weights_only=False)
        net.load_state_dict(st["net"])
        opt.load_state_dict(st["opt"])
        start = st["step"]
        rng = np.random.default_rng([args.seed, start])
    config = {"scene": scene.get("name"), "bodies": modelled, "action_size": action_size,
              "hidden": args.hidden, "history": HISTORY, "action_history": ACTION_HISTORY,
              "step_m": STEP_M, "position_scale_m": POS_SCALE, "layers": 4, "activation": "silu"}
    if args.spin:
        config["rolling_state"] = True
    log = open(args.log, "a") if args.log else None

    def emit(rec):
        line = json.dumps(rec)
        print(line, flush=True)
        if log:
            log.write(line + "\n")
            log.flush()

    def save_state(step_i):
        save_checkpoint(args.out, net, config)
        tmp = state_path + ".tmp"
        torch.save({"net": net.state_dict(), "opt": opt.state_dict(), "step": step_i}, tmp)
        os.replace(tmp, state_path)

    win_cache = {}
    t0 = time.time()
    step_i = start
    while step_i < args.steps:
        frac = step_i / args.steps
        length = next(n for n, until in stages if frac < until or until >= 1.0)
        if length not in win_cache:
            win_cache[length] = windows(data, length)
            if not win_cache[length]:
                fail(f"--rollout: no episode has {length} ticks", 2)
        w = win_cache[length]
        lr = args.lr_final + 0.5 * (args.lr - args.lr_final) * (1 + math.cos(math.pi * frac))
        for g in opt.param_groups:
            g["lr"] = lr
        idx = [w[i] for i in rng.integers(0, len(w), args.batch)]
        P, A, R = batch(data_p, idx, length, bodies)
        pred, rolls = rollout(net, P, A, length, args.spin)
        loss = ((pred - P[:, HISTORY:]) * 1000.0).pow(2).sum(-1).mean()  # mm^2 per body and step
        if args.spin:
            loss = loss + args.spin_weight * ((rolls - R[:, HISTORY:]) * 1000.0).pow(2).sum(-1).mean()
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 10.0)
        opt.step()
        step_i += 1
        if step_i % 100 == 0:
            emit({"step": step_i, "loss_mm2": round(float(loss), 4), "rollout": length, "lr": lr,
                  "seconds": round(time.time() - t0, 1)})
        if held and (step_i % args.eval_every == 0 or step_i == args.steps):
            emit({"step": step_i, "eval": evaluate(net, held_p, bodies, modelled, args.spin)})
        if step_i % args.checkpoint_every == 0 or step_i == args.steps:
            save_state(step_i)
        if args.max_seconds and time.time() - t0 > args.max_seconds:
            save_state(step_i)
            emit({"step": step_i, "stopped": "max-seconds"})
            return
    save_checkpoint(args.out, net, config)


if __name__ == "__main__":
    main()
