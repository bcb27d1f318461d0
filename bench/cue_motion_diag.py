"""Where a `unet` model's one-step error on a driven ball comes from (assets/models/billiards-unet.md,
"Round 15"): teacher forced on every window of recorded episodes, the ball's centroid found in
the predicted frame as agents/src/body_finder.cpp finds it (nearest calibrated chromaticity with
a brightness penalty), against the renderer's ids. Prints the mean error, its split by how far
the ball truly moved, how far the predicted mask moves along the true motion (slope 1 = as far),
and constant velocity (the true masks' last displacement) and persistence on the same windows.

With --open-loop: instead, 30-step open-loop rollouts with the true actions from every 20th
tick of the first 12 episodes of each dataset; per horizon the ball's error, how far its
predicted mask moved from the start along the true move (slope 1 = as far), and its mask's size
in pixels next to the true one (a growing mask is a blurring ball; "Round 17").

With --flow (a checkpoint with output "warp" or "anchored"): teacher forced, one step from every
5th tick, the flow the model samples with on the body's pixels at t+1 against its exact motion
(the recorded poses through the per-body homography that train_unet.py fits to the mask
centroids, "Round 19"): the median over windows (the body moving 0.5 px or more) of the flow's
projection on the motion over the motion's length squared (1 = as far), and the mean flow error
per pixel and component on pixels moving less and more than 1 px.

usage: PYTHON bench/cue_motion_diag.py CHECKPOINT DATASET[,DATASET...] [--body cue] [--scene S]
[--open-loop | --flow] (datasets from `parallax collect`, e.g. scripts/train-default-model's
heldout-random, heldout-noisy; one CPU thread; about a minute for 48 billiards episodes)."""
import argparse
import json
import os
import sys

import numpy as np

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "worldmodel", "python"))


def chroma(f):
    s = f.sum(-1)
    return np.stack([f[..., 0] / s, f[..., 1] / s], -1)


class Finder:  # body_finder.cpp: classes 0 = background (grey), k + 1 = body k, then markers
    def __init__(self, colors, rgb, ids):
        self.ref = [np.array([1 / 3, 1 / 3])] + [chroma(np.array(c) + 1e-3) for c in colors]
        self.rng = [(-np.inf, np.inf)] * len(self.ref)
        f = rgb.reshape(-1, 3).astype(np.float64)
        i = ids.reshape(-1)
        s = f.sum(1)
        ok = s >= 0.04 * 3 * 255
        ch, lb = chroma(f), np.log(np.maximum(s, 1e-9))
        for c in range(len(self.ref)):
            m = ok & (i == c)
            if m.sum() >= 4:
                self.ref[c] = ch[m].mean(0)
                self.rng[c] = (lb[m].min() - np.log(1.5), lb[m].max() + np.log(1.5))

    def classes(self, rgb):
        f = rgb.reshape(-1, 3).astype(np.float64)
        s = f.sum(1)
        ch, lb = chroma(f), np.log(np.maximum(s, 1e-9))
        d = np.stack([((ch - r) ** 2).sum(1) + np.maximum(np.maximum(lo - lb, lb - hi), 0) ** 2
                      for r, (lo, hi) in zip(self.ref, self.rng)], 1)
        c = d.argmin(1)
        c[s < 0.04 * 3 * 255] = -1
        return c.reshape(rgb.shape[:2])


def hdf5_path(folder):
    """The episodes file of a `parallax collect` dataset (its folder or the folder's data/)."""
    data = folder if os.path.exists(os.path.join(folder, "metadata.json")) else os.path.join(folder, "data")
    return os.path.join(data, "main_data.hdf5")


def centroid(mask):
    ys, xs = np.nonzero(mask)
    return None if len(xs) < 4 else np.array([xs.mean() + 0.5, ys.mean() + 0.5])


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("checkpoint")
    p.add_argument("data")
    p.add_argument("--body", default="cue")
    p.add_argument("--scene", default=os.path.join(here, "..", "assets", "scenes", "billiards.json"))
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--open-loop", action="store_true", help="30-step open-loop rollouts instead")
    mode.add_argument("--flow", action="store_true", help="the one-step flow against the exact motion")
    a = p.parse_args()
    import h5py
    import torch

    import parallax_unet as pu
    from train_unet import load_dataset

    torch.set_num_threads(1)
    scene = json.load(open(a.scene))
    names = [b["name"] for b in scene["bodies"]]
    if a.body not in names:
        sys.exit(f"cue_motion_diag: --body '{a.body}' is not a body of {a.scene} ({', '.join(names)})")
    k = 1 + names.index(a.body)
    colors = [b["color"] for b in scene["bodies"]] + [m["color"] for m in scene.get("markers", [])]
    model = pu.load_checkpoint(a.checkpoint).eval()
    c = model.cfg["context_frames"]
    if a.open_loop:
        return open_loop(a, model, c, k, colors, load_dataset, torch, h5py)
    if a.flow:
        return flow_vs_motion(a, model, c, k, torch)
    rows = []  # true move, model error, persistence error, constant-velocity error, model move
    for folder in a.data.split(","):
        eps, _ = load_dataset(folder)
        with h5py.File(hdf5_path(folder), "r") as f:
            for ei, ep in enumerate(eps):
                ids = np.asarray(f[f"episode_{ei}"]["infos"]["ids"])
                ts = list(range(max(c - 1, 1), ep["act"].shape[0]))  # a previous frame for velocity
                fr = torch.from_numpy(ep["obs"]).float() / 255
                ctx = torch.stack([fr[t - c + 1:t + 1] for t in ts])
                with torch.no_grad():
                    pred = model(ctx, torch.from_numpy(ep["act"][ts]))[0].clamp(0, 1)
                pred = (pred * 255).round().byte().permute(0, 2, 3, 1).numpy()
                for j, t in enumerate(ts):
                    prev, last, nxt = (centroid(ids[u] == k) for u in (t - 1, t, t + 1))
                    if last is None or nxt is None:
                        continue
                    finder = Finder(colors, ep["obs"][t].transpose(1, 2, 0), ids[t])
                    pc = centroid(finder.classes(pred[j]) == k)
                    cv = last + (last - prev if prev is not None else 0)
                    rows.append((np.linalg.norm(nxt - last),
                                 np.inf if pc is None else np.linalg.norm(pc - nxt),
                                 np.linalg.norm(nxt - last), np.linalg.norm(cv - nxt),
                                 *(nxt - last), *((pc - last) if pc is not None else (0, 0))))
    if not rows:
        sys.exit(f"cue_motion_diag: {a.data}: no window with '{a.body}' in view in two frames")
    r = np.array(rows)
    ok = np.isfinite(r[:, 1])
    print(f"{len(r)} windows; {a.body} error at t+1 [px]: model {r[ok, 1].mean():.3f} "
          f"(not found in {int((~ok).sum())}), persistence {r[:, 2].mean():.3f}, "
          f"constant velocity {r[:, 3].mean():.3f}")
    for lo, hi in [(0, 0.01), (0.01, 0.3), (0.3, 0.7), (0.7, 1.5), (1.5, 1e9)]:
        m = ok & (r[:, 0] >= lo) & (r[:, 0] < hi)
        if m.any():
            print(f"  true move [{lo}, {hi if hi < 1e9 else 'inf'}) px: {int(m.sum())} windows, model "
                  f"{r[m, 1].mean():.3f}, constant velocity {r[m, 3].mean():.3f}")
    m = ok & (r[:, 0] > 0.3)
    tv, pv = r[m, 4:6], r[m, 6:8]
    print(f"predicted mask's move along the true move (windows moving > 0.3 px): slope "
          f"{(pv * tv).sum() / (tv ** 2).sum():.3f}")


def flow_vs_motion(a, model, c, k, torch, every=5, episodes=12):
    from parallax_unet import FLOW_OUTPUTS
    from train_unet import attach_pose_centroids, fit_projections, flow_targets, load_dataset

    if model.cfg["output"] not in FLOW_OUTPUTS:
        sys.exit(f"cue_motion_diag: {a.checkpoint}: config field 'output' is "
                 f"'{model.cfg['output']}': --flow needs warp or anchored")
    eps = []
    for folder in a.data.split(","):
        eps += load_dataset(folder, episodes, keep_ids=True)[0]
    hs, rms = fit_projections(eps)
    if hs[k - 1] is None:
        sys.exit(f"cue_motion_diag: {a.data}: body '{a.body}' never moves whole in view (no homography)")
    attach_pose_centroids(eps, hs)
    ratios, err = [], {False: [], True: []}
    for ei, e in enumerate(eps):
        fr = torch.from_numpy(e["obs"]).float() / 255
        for s in range(c - 1, e["act"].shape[0], every):
            tgt, msk = flow_targets(eps, [(ei, s)], 1, True)
            body = (e["ids"][s + 1] == k) & (msk[0, 0, 0] > 0)
            if not body.any():
                continue
            ctx = torch.stack([fr[max(0, s - c + 1 + i)] for i in range(c)])[None]
            with torch.no_grad():
                flow = model.step(ctx, torch.from_numpy(e["act"][s])[None], None, return_flow=True)[4]
            f, d = flow[0].numpy()[:, body], tgt[0, 0][:, body]
            fast = np.linalg.norm(d, axis=0) >= 1.0
            for which in (False, True):
                err[which] += list(np.abs(f - d)[:, fast == which].ravel())
            if np.linalg.norm(d, axis=0).mean() >= 0.5:
                ratios.append((f * d).sum() / (d * d).sum())
    if not ratios:
        sys.exit(f"cue_motion_diag: {a.data}: no window where '{a.body}' moves 0.5 px or more")
    print(f"homography fit RMS {rms[k - 1]:.3f} px; {len(ratios)} windows with '{a.body}' moving "
          f">= 0.5 px: flow / true motion, median {np.median(ratios):.3f}")
    print("  flow error per pixel and component [px]: "
          + ", ".join(f"{name} {np.mean(err[w]):.3f} ({len(err[w]) // 2} pixels)"
                      for name, w in (("moving < 1 px", False), ("moving >= 1 px", True)) if err[w]))


def open_loop(a, model, c, k, colors, load_dataset, torch, h5py, every=20, episodes=12):
    horizons = [1, 2, 5, 10, 20, 30]
    res = {h: [] for h in horizons}  # error, true move (x, y), predicted move (x, y), mask sizes
    for folder in a.data.split(","):
        eps, _ = load_dataset(folder, episodes)
        with h5py.File(hdf5_path(folder), "r") as f:
            for ei, ep in enumerate(eps):
                ids = np.asarray(f[f"episode_{ei}"]["infos"]["ids"])
                fr = torch.from_numpy(ep["obs"]).float() / 255
                for t0 in range(c - 1, ep["act"].shape[0] - horizons[-1], every):
                    start = centroid(ids[t0] == k)
                    if start is None:
                        continue
                    finder = Finder(colors, ep["obs"][t0].transpose(1, 2, 0), ids[t0])
                    ctx = fr[t0 - c + 1:t0 + 1][None]
                    carry = None  # output "anchored" carries its anchor and flow along
                    for h in range(1, horizons[-1] + 1):
                        with torch.no_grad():
                            nxt, _, _, carry = model.step(
                                ctx, torch.from_numpy(ep["act"][t0 + h - 1:t0 + h]), carry)
                            nxt = nxt.clamp(0, 1)
                        ctx = torch.cat([ctx[:, 1:], nxt[:, None]], dim=1)
                        true = centroid(ids[t0 + h] == k)
                        if h not in res or true is None:
                            continue
                        mask = finder.classes((nxt[0] * 255).round().byte().permute(1, 2, 0).numpy()) == k
                        pc = centroid(mask)
                        res[h].append((np.inf if pc is None else np.linalg.norm(pc - true), *(true - start),
                                       *((pc - start) if pc is not None else (0, 0)), mask.sum(),
                                       (ids[t0 + h] == k).sum()))
    if not res[1]:
        sys.exit(f"cue_motion_diag: {a.data}: no window with '{a.body}' in view")
    print(f"{len(res[1])} open-loop windows (every {every}th tick, {episodes} episodes per dataset)")
    for h in horizons:
        r = np.array(res[h])
        ok = np.isfinite(r[:, 0])
        tv, pv = r[ok, 1:3], r[ok, 3:5]
        m = np.linalg.norm(tv, axis=1) > 0.3
        slope = (pv[m] * tv[m]).sum() / max((tv[m] ** 2).sum(), 1e-12)
        print(f"  t+{h}: {a.body} error {r[ok, 0].mean():.2f} px (not found in {int((~ok).sum())}), "
              f"slope {slope:.3f}, mask {r[ok, 5].mean():.1f} px (true {r[ok, 6].mean():.1f})")


if __name__ == "__main__":
    main()
