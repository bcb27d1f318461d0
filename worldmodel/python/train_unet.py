#!/usr/bin/env python3
"""Trains the `unet` world-model family on Parallax datasets (parallax collect), CPU or CUDA.

    train_unet.py --data DIR[,DIR...] --out model.pt [--eval-data DIR] [--steps N] [--resume]

Training: sequences of C context frames + K predicted frames from the datasets; the model rolls
out K steps on its own (clamped) predictions with the true actions, and the loss is the mean
squared pixel error of every predicted frame (+ small reward and continue terms), back-propagated
through the whole rollout. K follows --rollout (for example "1:0.6,4:0.85,8:1" = one step for the
first 60 % of the steps, then 4, then 8); each batch holds --frames-per-step predicted frames.

Checkpoints: --out (the model, loadable by the C++ library) and --out.state (optimizer, step,
RNG states) are written atomically every --checkpoint-every steps; --resume continues exactly.
Metrics: JSON lines (--log): loss, frames/s; every --eval-every steps open-loop PSNR per horizon
(PSNR of the mean MSE over episodes) of the model and of "nothing moves" on --eval-data.
Bad input: one line on stderr naming the file and field, exit 1 (2 for bad flags).
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


def fail(msg: str, code: int = 1):
    print(f"train_unet: error: {msg}", file=sys.stderr)
    sys.exit(code)


def load_pack(path: str, max_episodes: int | None = None):
    """A training pack (--pack): episodes concatenated in one compressed .npz (numpy only, for
    machines without h5py, such as the GPU machine of bench/device-train.sh)."""
    try:
        z = np.load(path)
        obs, act, rew, term, lens = z["obs"], z["act"], z["rew"], z["term"], z["lengths"]
        meta = json.loads(str(z["meta"]))
    except (OSError, KeyError, ValueError) as e:
        fail(f"{path}: not a training pack ({e})")
    episodes, o, t = [], 0, 0
    for i, n in enumerate(lens[: max_episodes or len(lens)]):
        n = int(n)
        episodes.append({"obs": obs[o:o + n + 1], "act": act[t:t + n], "rew": rew[t:t + n],
                         "term": term[t:t + n].astype(bool)})
        o += n + 1
        t += n
    return episodes, meta


def write_pack(path: str, episodes, meta):
    tmp = path + f".tmp.{os.getpid()}.npz"
    np.savez_compressed(tmp, obs=np.concatenate([e["obs"] for e in episodes]),
                        act=np.concatenate([e["act"] for e in episodes]),
                        rew=np.concatenate([e["rew"] for e in episodes]),
                        term=np.concatenate([e["term"] for e in episodes]),
                        lengths=np.array([e["act"].shape[0] for e in episodes], np.int64),
                        meta=np.array(json.dumps(meta)))
    os.replace(tmp, path)


def refuse_interrupted_commit(path: str, total_episodes: int):
    """A writer killed in the middle of a commit leaves `<path>.undo` (docs/store.md, "Crash
    safety"): where its commit count (int64 LE at byte 8) equals metadata.json's, the HDF5 file may
    be torn and only parallax reads it (through the journal); h5py would not. A journal with a
    lower count is stale (that commit landed) and is ignored."""
    journal = path + ".undo"
    try:
        with open(journal, "rb") as f:
            head = f.read(16)
    except FileNotFoundError:
        return
    if len(head) == 16 and head[:8] == b"PXUNDO01" and int.from_bytes(head[8:], "little") < total_episodes:
        return
    fail(f"{journal}: a collection was killed in the middle of a commit; resume it "
         "(`parallax collect ... --resume`) to roll the file back before reading it")


def load_dataset(folder: str, max_episodes: int | None = None, keep_ids: bool = False):
    """Returns (episodes, meta). Each episode: dict(obs [T+1,3,H,W] u8, act [T,A] f32,
    rew [T] f32, term [T] bool). `folder` is a dataset folder or a .npz training pack.
    keep_ids: also ids [T+1,H,W] u8 (infos/ids) and cent [T+1,K,2] f32, each body's mask
    centroid (x, y) in pixels, NaN where it is not in view (--flow-weight); a folder without
    infos/ids fails."""
    if folder.endswith(".npz"):
        if keep_ids:
            fail(f"{folder}: a training pack holds no id masks (--flow-weight and --centroid-weight need dataset folders)", 2)
        return load_pack(folder, max_episodes)
    import h5py

    data = folder if os.path.exists(os.path.join(folder, "metadata.json")) else os.path.join(folder, "data")
    meta_path = os.path.join(data, "metadata.json")
    try:
        with open(meta_path) as f:
            meta = json.load(f)
    except OSError as e:
        fail(f"{meta_path}: cannot read ({e.strerror})")
    except json.JSONDecodeError as e:
        fail(f"{meta_path}: not JSON ({e})")
    n = meta.get("total_episodes")
    if not isinstance(n, int) or n < 1:
        fail(f"{meta_path}: field 'total_episodes' is {n!r}, expected a positive int")
    if max_episodes:
        n = min(n, max_episodes)
    path = os.path.join(data, "main_data.hdf5")
    refuse_interrupted_commit(path, meta["total_episodes"])
    episodes = []
    try:
        with h5py.File(path, "r") as f:
            for i in range(n):
                g = f[f"episode_{i}"]
                ep = {
                    "obs": np.asarray(g["observations"], dtype=np.uint8),
                    "act": np.asarray(g["actions"], dtype=np.float32),
                    "rew": np.asarray(g["rewards"], dtype=np.float32),
                    "term": np.asarray(g["terminations"]).astype(bool),
                }
                if "infos" in g and "poses" in g["infos"]:  # [T+1, K, 7] (train_latent --pose-*)
                    ep["poses"] = np.asarray(g["infos"]["poses"], dtype=np.float32)
                    if "ids" in g["infos"]:  # [T+1, H, W]: body k is in view where id k+1 is
                        ids = np.asarray(g["infos"]["ids"])
                        k = ep["poses"].shape[1]
                        ep["visible"] = np.stack([(ids == j + 1).any((1, 2)) for j in range(k)], 1)
                        if keep_ids:
                            ep["ids"] = ids.astype(np.uint8)
                            ep["cent"] = mask_centroids(ids, k)
                if keep_ids and "ids" not in ep:
                    fail(f"{path}: episode_{i}/infos/ids is missing (--flow-weight and --centroid-weight need the id masks)")
                t = ep["act"].shape[0]
                if ep["obs"].shape[0] != t + 1 or ep["obs"].ndim != 4 or ep["obs"].shape[1] != 3:
                    fail(f"{path}: episode_{i}/observations has shape {ep['obs'].shape}, "
                         f"expected [{t + 1}, 3, H, W]")
                if not np.all(np.isfinite(ep["act"])):
                    fail(f"{path}: episode_{i}/actions holds a non-finite value")
                episodes.append(ep)
    except OSError as e:
        fail(f"{path}: cannot read ({e})")
    return episodes, meta


def mask_centroids(ids, k: int):
    """[T+1, H, W] ids (body j is where id j + 1 is) -> [T+1, k, 2] f32 mask centroids (x, y)
    in pixels (column, row), NaN where body j is not in view."""
    t1, h, w = ids.shape
    ys, xs = np.mgrid[0:h, 0:w]
    out = np.full((t1, k, 2), np.nan, np.float32)
    for j in range(k):
        m = ids == j + 1
        n = m.sum((1, 2))
        seen = n > 0
        out[seen, j, 0] = (m * xs).sum((1, 2))[seen] / n[seen]
        out[seen, j, 1] = (m * ys).sum((1, 2))[seen] / n[seen]
    return out


def fit_projections(episodes, min_share: float = 0.9, max_points: int = 50000):
    """Per body j that moves in `episodes` (each with poses [T+1, K, 7] and cent from
    mask_centroids()): the homography (x, y) -> (u, v) from its position on the table (m) to its
    mask centroid (px), fitted by linear least squares (DLT, h33 = 1) over the frames where its
    mask is whole (at least `min_share` of its median pixel count: not cut by the view's edge or
    covered). The camera is a perspective one and each body moves in its own horizontal plane, so
    one homography per body is exact up to the mask's quantisation, which the fit averages out.
    Returns [K] of 3x3 arrays (None for a body that never moves or is never whole in view) and
    the fit's RMS residual per body in px (a sanity figure)."""
    k = episodes[0]["poses"].shape[1]
    out, rms = [None] * k, [None] * k
    for j in range(k):
        xy = np.concatenate([e["poses"][:, j, :2] for e in episodes])
        uv = np.concatenate([e["cent"][:, j] for e in episodes])
        n = np.concatenate([(e["ids"] == j + 1).sum((1, 2)) for e in episodes])
        seen = n > 0
        if not seen.any() or np.ptp(xy[seen], axis=0).max() < 1e-4:
            continue
        whole = seen & (n >= min_share * np.median(n[seen]))
        xy, uv = xy[whole].astype(np.float64), uv[whole].astype(np.float64)
        if len(xy) > max_points:
            pick = np.random.default_rng(j).choice(len(xy), max_points, replace=False)
            xy, uv = xy[pick], uv[pick]
        if len(xy) < 16:
            continue
        x, y, u, v = xy[:, 0], xy[:, 1], uv[:, 0], uv[:, 1]
        one, zero = np.ones_like(x), np.zeros_like(x)
        a = np.concatenate([np.stack([x, y, one, zero, zero, zero, -u * x, -u * y], 1),
                            np.stack([zero, zero, zero, x, y, one, -v * x, -v * y], 1)])
        h = np.append(np.linalg.lstsq(a, np.concatenate([u, v]), rcond=None)[0], 1.0).reshape(3, 3)
        out[j] = h
        rms[j] = float(np.sqrt(((project(h, xy) - uv) ** 2).sum(1).mean()))
    return out, rms


def project(h, xy):
    """[N, 2] table positions -> [N, 2] pixels through the homography h (3x3)."""
    p = xy @ h[:, :2].T + h[:, 2]
    return p[:, :2] / p[:, 2:3]


def attach_pose_centroids(episodes, homographies):
    """Replaces each episode's cent (mask centroids) by the bodies' recorded positions projected
    to pixels, for the bodies with a homography, where their mask is in view (NaN elsewhere, as
    before): sub-pixel exact, where a mask centroid moves in jumps of the pixel grid (a ball
    rolling 0.3 px per step has mask displacements of mostly 0, whose median is 0)."""
    for e in episodes:
        for j, h in enumerate(homographies):
            if h is not None:
                seen = np.isfinite(e["cent"][:, j, 0])
                e["cent"][seen, j] = project(h, e["poses"][seen, j, :2].astype(np.float64))


def flow_targets(episodes, windows, k: int, cumulative: bool, min_move: float = 0.05):
    """The flow a warp output should sample with, from the recorded id masks and each episode's
    cent (mask centroids, or the projected poses of attach_pose_centroids()): for window
    (episode, s) (last context frame s) and step i (target frame t = s + i + 1), each pixel of
    body j at t should sample the reference frame r (s if `cumulative`: output "anchored"
    samples the last observed frame; else t - 1) where body j was: flow = -(centroid_j(t) -
    centroid_j(r)). Body motion is taken as a translation of its mask centroid (a rolling
    ball's rotation is not seen at 64x64). Returns (target [B, k, 2, H, W], mask [B, k, 1, H,
    W]): only the pixels of bodies that moved at least `min_move` px are supervised. Not the
    background and resting bodies (target 0): the flow head's field is smooth, so zero targets
    around a small ball pull its flow to zero (measured: the cue ball's flow fell from 0.80 to
    0.06 of its motion), and in a rollout the model's lagging ball sits on true background; a
    resting ball's recorded pose jitters by far less than a pixel, and counted as moving, the
    many resting balls outweighed the driven one (its flow fell to 0.41 of its motion). Also
    left out: bodies not in view at t or r, steps past the episode's end."""
    h, w = episodes[0]["ids"].shape[1:]
    b = len(windows)  # cent: mask centroids, or projected poses (attach_pose_centroids)
    tgt = np.zeros((b, k, 2, h, w), np.float32)
    msk = np.zeros((b, k, 1, h, w), np.float32)
    for j, (ei, s) in enumerate(windows):
        e = episodes[ei]
        for i in range(k):
            t = s + i + 1
            if t > e["act"].shape[0]:
                break
            r = s if cumulative else t - 1
            d = np.zeros((256, 2), np.float32)  # id 0 background, markers (> K) fixed: 0
            d[1:1 + e["cent"].shape[1]] = e["cent"][t] - e["cent"][r]
            ok = np.isfinite(d).all(1)
            d = np.nan_to_num(d)
            moving = np.linalg.norm(d, axis=1) >= min_move
            lab = e["ids"][t].astype(np.int64)
            tgt[j, i] = -d[lab].transpose(2, 0, 1)
            msk[j, i, 0] = ok[lab] & moving[lab]
    return tgt, msk


class Sampler:
    """Windows of C context frames + K targets inside one episode. Context before the episode
    start repeats frame 0 (as DreamBatch pads a short context)."""

    def __init__(self, episodes, context, rng, weights=None, terminal_share=0.0):
        """weights: per episode (default 1); an episode is drawn in proportion to its steps x
        its weight. terminal_share: that fraction of windows is drawn among those whose first
        target is an episode's terminal step (success), from the episodes that have one."""
        self.eps = episodes
        self.c = context
        self.rng = rng
        lens = np.array([e["act"].shape[0] for e in episodes], dtype=np.float64)
        if weights is not None:
            lens = lens * np.asarray(weights, dtype=np.float64)
        self.p = lens / lens.sum()
        self.terminal_share = terminal_share
        self.terminal = [(i, int(np.flatnonzero(e["term"])[0])) for i, e in enumerate(episodes)
                         if e["term"].any()]

    def batch(self, b, k):
        c = self.c
        h, w = self.eps[0]["obs"].shape[2:]
        a = self.eps[0]["act"].shape[1]
        frames = np.empty((b, c + k, 3, h, w), np.uint8)
        acts = np.zeros((b, k, a), np.float32)
        rews = np.zeros((b, k), np.float32)
        conts = np.ones((b, k), np.float32)
        valid = np.zeros((b, k), np.float32)
        idx = self.rng.choice(len(self.eps), size=b, p=self.p)
        terminal = (self.rng.random(b) < self.terminal_share if self.terminal_share > 0
                    else np.zeros(b, bool))
        self.last = []  # (episode, s) per window: window_poses() reads the same windows
        for j, ei in enumerate(idx):
            if terminal[j] and self.terminal:
                ei, s = self.terminal[int(self.rng.integers(0, len(self.terminal)))]
            e = self.eps[ei]
            t_len = e["act"].shape[0]
            # Last context frame index s in [0, T-1]; targets s+1 .. s+K (clipped at T).
            if not (terminal[j] and self.terminal):
                s = int(self.rng.integers(0, t_len))
            self.last.append((int(ei), s))
            for i in range(c):
                frames[j, i] = e["obs"][max(0, s - (c - 1) + i)]
            for i in range(k):
                t = s + i  # action t leads from frame t to t+1
                if t < t_len:
                    frames[j, c + i] = e["obs"][t + 1]
                    acts[j, i] = e["act"][t]
                    rews[j, i] = e["rew"][t]
                    conts[j, i] = 0.0 if e["term"][t] else 1.0
                    valid[j, i] = 1.0
                else:
                    frames[j, c + i] = frames[j, c + i - 1]
        return frames, acts, rews, conts, valid


def motion_weights(prev, target, weight: float, threshold: float = 0.1):
    """Per-pixel loss weights [B, 1, H, W]: `weight` where any channel of the true frame changes
    by more than `threshold` from `prev` (the true frame before `target`, both [B, 3, H, W] in
    [0, 1]), else 1. Both where a body was and where it went count as moving."""
    moving = ((target - prev).abs() > threshold).any(dim=1, keepdim=True)
    return 1.0 + (weight - 1.0) * moving.to(target.dtype)


def horizon_psnr(model, episodes, context, horizon, device, torch):
    """Open loop from the first C frames of each episode (padded as in training): per horizon
    the mean MSE over episodes -> PSNR, for the model and for 'nothing moves'."""
    sse_m = np.zeros(horizon)
    sse_n = np.zeros(horizon)
    cnt = np.zeros(horizon)
    with torch.no_grad():
        for e in episodes:
            obs = torch.from_numpy(e["obs"]).float().div(255.0)
            s = context - 1
            ctx = torch.stack([obs[max(0, s - (context - 1) + i)] for i in range(context)])[None].to(device)
            last = ctx[:, -1]
            carry = None
            for hz in range(horizon):
                t = s + hz
                if t >= e["act"].shape[0]:
                    break
                a = torch.from_numpy(e["act"][t])[None].to(device)
                nxt, _, _, carry = model.step(ctx, a, carry)
                nxt = nxt.clamp(0, 1)
                q = torch.round(nxt * 255.0) / 255.0  # as DreamBatch decodes to u8
                true = obs[t + 1].to(device)
                sse_m[hz] += float(((q[0] - true) ** 2).mean())
                sse_n[hz] += float(((last[0] - true) ** 2).mean())
                cnt[hz] += 1
                ctx = torch.cat([ctx[:, 1:], nxt[:, None]], dim=1)
    mse_m = sse_m / np.maximum(cnt, 1)
    mse_n = sse_n / np.maximum(cnt, 1)
    to_db = lambda m: float("inf") if m <= 0 else -10.0 * math.log10(m)
    return {f"t+{h}": [round(to_db(mse_m[h - 1]), 2), round(to_db(mse_n[h - 1]), 2)]
            for h in (1, 2, 5, 10, 20, 30) if h <= horizon and cnt[h - 1] > 0}


def main():
    from train_common import add_run_flags

    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", required=True, help="dataset folders, comma-separated")
    p.add_argument("--data-weights", default="",
                   help="sampling weight per --data folder, comma-separated (default: all 1); an "
                   "episode is drawn in proportion to its steps x its folder's weight")
    p.add_argument("--out", required=True, help="checkpoint to write (the C++ library loads it)")
    p.add_argument("--eval-data", default="", help="held-out datasets (comma-separated) for open-loop PSNR")
    p.add_argument("--eval-episodes", type=int, default=24, help="episodes per eval dataset")
    p.add_argument("--eval-every", type=int, default=1000)
    p.add_argument("--steps", type=int, default=20000)
    p.add_argument("--frames-per-step", type=int, default=32, help="predicted frames per batch")
    p.add_argument("--rollout", default="1:0.6,4:0.85,8:1")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--lr-final", type=float, default=1e-4, help="cosine decay target")
    p.add_argument("--clip", type=float, default=1.0)
    p.add_argument("--context", type=int, default=2)
    p.add_argument("--channels", default="16,32,64,128")
    p.add_argument("--bf16", action="store_true", help="bf16 autocast (CUDA)")
    add_run_flags(p, 500)
    p.add_argument("--init", default="", help="start from this checkpoint's weights (same config); "
                   "the fine-tuning stage of a recipe")
    p.add_argument("--reward-input", choices=("bottleneck", "frame", "keypoints"),
                   default="bottleneck",
                   help="what the reward and continue heads read: the U-Net's bottleneck, the "
                   "predicted frame, or keypoints of the predicted frame (parallax_unet.py)")
    p.add_argument("--keypoints", type=int, default=16,
                   help="with --reward-input keypoints: how many")
    p.add_argument("--heads-only", action="store_true",
                   help="train only the reward and continue heads (the frame predictor frozen: "
                   "its images stay bit-identical), on the model's own rollouts")
    p.add_argument("--true-frames-only", action="store_true",
                   help="with --heads-only and --reward-input frame or keypoints: train the frame head on true "
                   "frames only (the frozen U-Net is not run: fast); a later stage adapts it to "
                   "the model's own rollouts")
    p.add_argument("--diff-weight", type=float, default=0.0,
                   help="with --true-frames-only: weight of a loss on the change of the predicted "
                   "reward between consecutive steps against the true change (plans are ranked "
                   "by differences: this teaches the head what does not change the reward)")
    p.add_argument("--terminal-share", type=float, default=0.0,
                   help="fraction of windows whose first target is an episode's terminal step "
                   "(success: rare in the data, and the reward bonus and continue head learn it "
                   "only from those)")
    p.add_argument("--motion-weight", type=float, default=1.0,
                   help="weight of the pixels that change between the true previous frame and the "
                   "target (any channel by more than 0.1) in the frame loss, the others 1 (a "
                   "driven ball covers a few of 4,096 pixels; the mean squared error barely sees "
                   "where it goes); the logged mse is then the weighted one")
    p.add_argument("--pixel-loss", choices=("mse", "l1"), default="mse",
                   help="the frame loss per pixel: squared error (default) or absolute error (the "
                   "median instead of the mean of where a body may be: sharper, where the mean "
                   "blurs a moving ball and its centroid lags); the logged mse is then the l1")
    p.add_argument("--output", choices=("residual", "warp", "anchored"), default=None,
                   help="how the next frame is drawn: the last frame plus a residual, or the last "
                   "frame warped by a predicted flow (pixels) plus a residual, or (anchored) the "
                   "same weights with the last observed frame sampled once by the accumulated "
                   "flow in rollouts (parallax_unet.py); default: --init's, else residual. A "
                   "flow output from a residual --init adds the flow at zero (the model starts "
                   "as --init's); warp and anchored share their weights both ways")
    p.add_argument("--flow-weight", type=float, default=0.0,
                   help="with --output warp or anchored: weight of a loss (--flow-loss; pixels, mean "
                   "over the frame) between the flow the frame is sampled with and the bodies' true "
                   "motion: their recorded positions projected to pixels (fit_projections()), on "
                   "the pixels of the bodies that moved (the recorded id masks; flow_targets(): "
                   "warp, the first step of each window; anchored, every step, accumulated from the "
                   "last observed frame). The pixel loss alone sees a ball's motion only where the "
                   "warped ball overlaps the true one, and in rollouts the model under-moves it "
                   "(assets/models/billiards-unet.md)")
    p.add_argument("--flow-loss", choices=("l1", "mse", "speed"), default="l1",
                   help="with --flow-weight: absolute error (the median of the motions the "
                   "context allows) or squared error (their mean) per pixel and component, or "
                   "(speed) the absolute error times the pixel's true motion (its length, at "
                   "least 0.5 px): the L1's pull is the same on every pixel, so the many slow "
                   "balls outweigh the few fast ones; here a pixel pulls in proportion to its speed")
    p.add_argument("--centroid-weight", type=float, default=0.0,
                   help="weight of the bodies' positions read by colour from each predicted frame "
                   "against the true frame's (px, L1, plus the relative mass; centroid_loss.py), at "
                   "every step of the rollout; needs dataset folders with infos/ids (default 0: off)")
    p.add_argument("--head-weight", type=float, default=1e-3,
                   help="weight of the reward + continue losses next to the pixel loss")
    p.add_argument("--pack", default="", help="only write --data (and --eval-data to PACK with "
                   "-eval before .npz) as compressed training packs, then exit")
    args = p.parse_args()
    if args.pack:
        for src, dst in ((args.data, args.pack), (args.eval_data, args.pack[:-4] + "-eval.npz")):
            if not src:
                continue
            eps, meta = [], None
            for folder in [d for d in src.split(",") if d]:
                e, m = load_dataset(folder)
                eps += e
                meta = meta or m
            write_pack(dst, eps, {"scene_name": meta.get("scene_name", "")})
            print(f"train_unet: wrote {dst} ({len(eps)} episodes)", file=sys.stderr)
        return

    import parallax_unet as pu
    from train_common import (data_weights, end_time_schedule, parse_rollout, schedule_fraction,
                              torch_device)

    torch, device = torch_device(args, fail)
    if args.steps < 1 or args.frames_per_step < 1:
        fail("--steps and --frames-per-step must be positive", 2)
    if not 0.0 <= args.terminal_share < 1.0:
        fail(f"--terminal-share is {args.terminal_share}, expected a fraction in [0, 1)", 2)
    if not 1.0 <= args.motion_weight <= 1000.0:
        fail(f"--motion-weight is {args.motion_weight}, expected 1..1000", 2)
    if not 1 <= args.keypoints <= 64:
        fail(f"--keypoints is {args.keypoints}, expected 1..64", 2)
    schedule = parse_rollout(args.rollout, fail)
    weights_of = data_weights(args.data_weights, args.data, fail)  # bad flags before loading
    if args.flow_weight < 0 or not math.isfinite(args.flow_weight):
        fail(f"--flow-weight is {args.flow_weight}, expected a finite value >= 0", 2)
    if args.centroid_weight < 0 or not math.isfinite(args.centroid_weight):
        fail(f"--centroid-weight is {args.centroid_weight}, expected a finite value >= 0", 2)
    if args.centroid_weight > 0 and (args.heads_only or args.true_frames_only):
        fail("--centroid-weight trains the frame predictor: not with --heads-only", 2)
    needs_ids = args.flow_weight > 0 or args.centroid_weight > 0

    from train_common import JsonLog, TrainState, load_training_data

    episodes, eval_eps, meta0, h, w, a = load_training_data(
        args.data, args.eval_data, args.eval_episodes,
        lambda folder, n=None: load_dataset(folder, n, keep_ids=needs_ids and n is None), fail)
    cfg = pu.default_config(h, w, a)
    cfg["context_frames"] = args.context
    cfg["channels"] = [int(x) for x in args.channels.split(",")]
    cfg["scene"] = meta0.get("scene_name", "")
    cfg["reward_input"] = args.reward_input
    if args.reward_input == "keypoints":
        cfg["keypoints"] = args.keypoints
    init = None
    if args.init:
        try:
            init = pu.load_checkpoint(args.init)
        except Exception as e:  # noqa: BLE001 - any unreadable checkpoint is one line
            fail(f"{args.init}: cannot load --init checkpoint ({e})")
        if args.output is None:
            args.output = init.cfg["output"]
        elif init.cfg["output"] in pu.FLOW_OUTPUTS and args.output not in pu.FLOW_OUTPUTS:
            fail(f"{args.init}: --init config field 'output' is '{init.cfg['output']}', "
                 f"--output is '{args.output}' (the flow would be dropped)", 2)
    cfg["output"] = args.output or "residual"
    if args.flow_weight > 0 and cfg["output"] not in pu.FLOW_OUTPUTS:
        fail(f"--flow-weight needs --output warp or anchored (the output is '{cfg['output']}')", 2)
    if args.flow_weight > 0:
        homographies, fit_rms = fit_projections(episodes)
        attach_pose_centroids(episodes, homographies)
        print("train_unet: flow targets from the recorded poses; homography fit RMS [px] per body: "
              + ", ".join("-" if r is None else f"{r:.3f}" for r in fit_rms), file=sys.stderr)
    reads_frame = args.reward_input in pu.FRAME_READERS
    n_bodies = 0
    if args.centroid_weight > 0:
        from centroid_loss import centroid_loss, window_ids
        n_bodies = episodes[0]["poses"].shape[1]
    torch.manual_seed(args.seed)
    model = pu.UNetWorldModel(cfg).to(device)
    head_names = ("head_conv.", "head1.", "head2.", "frame_head.")
    if init is not None:
        for key in ("height", "width", "action_size", "context_frames", "channels"):
            if init.cfg.get(key) != cfg.get(key):
                fail(f"{args.init}: --init config field '{key}' is {init.cfg.get(key)}, "
                     f"the data and flags give {cfg.get(key)}")
        # The frame predictor comes from --init; the heads too when they read the same input.
        keep = {k: v for k, v in init.state_dict().items()
                if not k.startswith(head_names) or init.cfg["reward_input"] == args.reward_input}
        missing, _ = model.load_state_dict(keep, strict=False)
        if init.cfg["output"] == "residual":  # a flow model from a residual one: flow at zero
            missing = [k for k in missing if not k.startswith("flow.")]
        if any(not k.startswith(head_names) for k in missing):
            fail(f"{args.init}: --init checkpoint lacks weights {missing[:3]}")
    if args.true_frames_only and not (args.heads_only and reads_frame):
        fail("--true-frames-only needs --heads-only and --reward-input frame or keypoints", 2)
    if args.heads_only:
        if not args.init:
            fail("--heads-only needs --init (the trained frame predictor to keep)", 2)
        for name, prm in model.named_parameters():
            prm.requires_grad_(name.startswith(head_names))
    opt = torch.optim.Adam([q for q in model.parameters() if q.requires_grad], lr=args.lr)
    rng = np.random.default_rng(args.seed)
    state = TrainState(args.out, model, opt, rng, torch)
    if args.resume:
        state.resume("train_unet")
    sampler = Sampler(episodes, args.context, rng, [weights_of[e["dataset"]] for e in episodes],
                      args.terminal_share)
    if args.terminal_share > 0 and not sampler.terminal:
        fail("--terminal-share: no episode in --data has a terminal step", 2)
    n_params = sum(p.numel() for p in model.parameters())
    share = [float(sampler.p[[e["dataset"] == d for e in episodes]].sum()) for d in range(len(weights_of))]
    print(f"train_unet: {len(episodes)} episodes, {sum(e['act'].shape[0] for e in episodes)} steps; "
          f"{n_params} parameters; device {device}; windows drawn per --data folder: "
          + ",".join(f"{x:.3f}" for x in share), file=sys.stderr)
    log = JsonLog(args.log)
    emit = log.emit

    def save():
        pu.save_checkpoint(args.out, model, {"training": json.dumps(
            {"step": state.step, "compute_s": round(state.compute_s, 1), "args": vars(args)})})
        state.save()

    t_start = time.time()
    lr = args.lr
    t0 = time.time()
    frames_done = 0
    losses = []
    head_losses = []
    while state.step < args.steps:
        frac = schedule_fraction(args, state.step, t_start)
        if frac >= 1.0:  # --time-schedule: the time is up
            end_time_schedule("train_unet", state.step, t_start, lr, save)
            break
        k = next(kk for kk, f in schedule if frac < f or f >= 1.0)
        b = max(1, args.frames_per_step // k)
        lr = args.lr_final + 0.5 * (args.lr - args.lr_final) * (1 + math.cos(math.pi * frac))
        for g in opt.param_groups:
            g["lr"] = lr
        fr, ac, rw, ct, va = sampler.batch(b, k)
        fr = torch.from_numpy(fr).to(device).float().div_(255.0)
        ac, rw, ct, va = (torch.from_numpy(x).to(device) for x in (ac, rw, ct, va))
        model.train()
        if args.heads_only:
            model.eval()  # the frozen trunk's norms behave as at inference (GroupNorm: no state)
        ctx = fr[:, : args.context]
        carry = None
        loss_img = loss_rew = loss_cont = loss_flow = loss_cent = 0.0
        if args.centroid_weight > 0:
            wid = torch.from_numpy(window_ids(episodes, sampler.last, k)).to(device)
        if args.flow_weight > 0:
            cumulative = cfg["output"] == "anchored"
            ft, fm = (torch.from_numpy(x).to(device) for x in  # warp: the first step only
                      flow_targets(episodes, sampler.last, k if cumulative else 1, cumulative))
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=args.bf16):
            for i in range(k if not args.true_frames_only else 0):
                nxt, r, c, carry, flow = model.step(ctx, ac[:, i], carry, return_flow=True)
                nxt = nxt.float()
                target = fr[:, args.context + i]
                m = va[:, i]
                denom = m.sum().clamp_min(1.0)
                if args.flow_weight > 0 and (cumulative or i == 0):
                    fe = flow.float() - ft[:, i]
                    if args.flow_loss == "mse":
                        fe = fe * fe
                    elif args.flow_loss == "speed":
                        fe = fe.abs() * ft[:, i].norm(dim=1, keepdim=True).clamp_min(0.5)
                    else:
                        fe = fe.abs()
                    fe = (fe * fm[:, i]).mean(dim=(1, 2, 3))
                    loss_flow = loss_flow + (fe * m).sum() / denom
                if args.centroid_weight > 0:
                    ce, _ = centroid_loss(nxt, target, wid[:, i], n_bodies, torch)
                    loss_cent = loss_cent + (ce * m).sum() / denom
                se = (nxt - target) ** 2 if args.pixel_loss == "mse" else (nxt - target).abs()
                if args.motion_weight != 1.0:
                    se = se * motion_weights(fr[:, args.context + i - 1], target, args.motion_weight)
                loss_img = loss_img + (se.mean(dim=(1, 2, 3)) * m).sum() / denom
                loss_rew = loss_rew + (((r.float() - pu.symlog(rw[:, i])) ** 2) * m).sum() / denom
                loss_cont = loss_cont + (torch.nn.functional.binary_cross_entropy_with_logits(
                    c.float(), ct[:, i], reduction="none") * m).sum() / denom
                if reads_frame:  # the frame head also learns on true frames
                    th = model.frame_head(target, ac[:, i]).float()
                    loss_rew = loss_rew + (((th[:, 0] - pu.symlog(rw[:, i])) ** 2) * m).sum() / denom
                    loss_cont = loss_cont + (torch.nn.functional.binary_cross_entropy_with_logits(
                        th[:, 1], ct[:, i], reduction="none") * m).sum() / denom
                ctx = torch.cat([ctx[:, 1:], nxt.clamp(0, 1)[:, None]], dim=1)
        if args.true_frames_only:
            prev = None
            for i in range(k):
                m = va[:, i]
                denom = m.sum().clamp_min(1.0)
                th = model.frame_head(fr[:, args.context + i], ac[:, i]).float()
                if prev is not None and args.diff_weight > 0:
                    md = m * va[:, i - 1]
                    dt = pu.symlog(rw[:, i]) - pu.symlog(rw[:, i - 1])
                    loss_rew = loss_rew + args.diff_weight * (
                        ((th[:, 0] - prev - dt) ** 2) * md).sum() / md.sum().clamp_min(1.0)
                prev = th[:, 0]
                loss_rew = loss_rew + (((th[:, 0] - pu.symlog(rw[:, i])) ** 2) * m).sum() / denom
                loss_cont = loss_cont + (torch.nn.functional.binary_cross_entropy_with_logits(
                    th[:, 1], ct[:, i], reduction="none") * m).sum() / denom
            loss_img = torch.zeros(())
        if args.heads_only:
            loss = (loss_rew + loss_cont) / k
        else:
            loss = (loss_img + args.head_weight * (loss_rew + loss_cont)
                    + args.flow_weight * loss_flow + args.centroid_weight * loss_cent) / k
        opt.zero_grad(set_to_none=True)
        if not torch.isfinite(loss):
            emit({"step": state.step, "skipped": "non-finite loss"})
            state.step += 1
            continue
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), args.clip)
        opt.step()
        state.step += 1
        frames_done += b * k
        losses.append(float(loss_img.detach()) / k)
        head_losses.append((float(loss_rew.detach()) / k, float(loss_cont.detach()) / k,
                            float(loss_flow.detach()) / k if torch.is_tensor(loss_flow) else 0.0,
                            float(loss_cent.detach()) / k if torch.is_tensor(loss_cent) else 0.0))
        if state.step % 100 == 0 or state.step == args.steps:
            dt = time.time() - t0
            state.compute_s += dt
            mse = float(np.mean(losses))
            pix = {} if args.true_frames_only else {  # the U-Net did not run
                "mse": mse, "psnr_train": round(-10 * math.log10(max(mse, 1e-12)), 2)}
            emit({"step": state.step, "k": k, "batch": b, "lr": round(lr, 6), **pix,
                  "reward_mse_symlog": float(np.mean([h[0] for h in head_losses])),
                  "cont_bce": float(np.mean([h[1] for h in head_losses])),
                  **({"flow_loss": float(np.mean([h[2] for h in head_losses]))}
                     if args.flow_weight > 0 else {}),
                  **({"centroid_loss": float(np.mean([h[3] for h in head_losses]))}
                     if args.centroid_weight > 0 else {}),
                  "frames_per_s": round(frames_done / max(dt, 1e-9), 1),
                  "compute_s": round(state.compute_s, 1)})
            losses.clear()
            head_losses.clear()
            frames_done = 0
            t0 = time.time()
        if eval_eps and (state.step % args.eval_every == 0 or state.step == args.steps):
            model.eval()
            te = time.time()
            emit({"step": state.step, "eval": horizon_psnr(model, eval_eps, args.context, 30, device, torch),
                  "eval_s": round(time.time() - te, 1), "note": "[model dB, nothing-moves dB]"})
            t0 += time.time() - te
        if state.step % args.checkpoint_every == 0 or state.step == args.steps:
            save()
        if args.max_seconds and not args.time_schedule and time.time() - t_start > args.max_seconds:
            save()
            print(f"train_unet: stopped after --max-seconds at step {state.step} (resume with --resume)",
                  file=sys.stderr)
            break
    log.close()


if __name__ == "__main__":
    main()
