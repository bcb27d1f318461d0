#!/usr/bin/env python3
"""Give a `latent` checkpoint a value head: the planners' terminal value (docs/agents.md).

The world model stays frozen (its weights come out bit-identical); only the head
value: symlog V = Linear(SiLU(Linear(z))) (parallax_latent.py) is trained. Its target is the
discounted return after arriving in a state, from the datasets' rewards:
    G_s = sum_{k >= 0} gamma^k r_{s+k}   (r_t: the reward on arriving in frame t + 1)
with G_T = 0 when the episode terminated and G_T = r_{T-1} / (1 - gamma) when it was cut (the
last reward held forever: a cube at rest keeps its distance). So V is the return of the data's
own policies from there on: train it on data whose policies reach the goal (expert, noisy
expert, the oracle's or the planner's own episodes) for a value that pulls towards it.

The head reads the latents the planner will give it: each batch encodes B context windows and
rolls the frozen dynamics K steps open loop with the data's actions; every latent on the way
(k = 0 .. K, masked after the episode's end) regresses symlog G of its frame. Resumable
(--resume, --max-seconds); one JSON line per 100 steps and the held-out figures per --eval-every.

    train_value.py --init push-latent.pt --data runs/push/expert,runs/push/noisy \\
        --eval-data runs/push/heldout-noisy --out push-latent-value.pt --log value.jsonl --resume
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
from train_common import (JsonLog, TrainState, add_run_flags, data_weights,  # noqa: E402
                          load_training_data, torch_device)
from train_unet import load_dataset  # noqa: E402


def fail(msg: str, code: int = 1):
    print(f"train_value: error: {msg}", file=sys.stderr)
    sys.exit(code)


def returns_to_go(rew: np.ndarray, term: np.ndarray, gamma: float) -> np.ndarray:
    """[T + 1] f64: G_s for frames s = 0 .. T (see the top)."""
    t_len = rew.shape[0]
    g = np.zeros(t_len + 1, np.float64)
    terminated = t_len > 0 and bool(term[-1])
    g[t_len] = 0.0 if terminated or t_len == 0 else float(rew[-1]) / (1.0 - gamma)
    for s in range(t_len - 1, -1, -1):
        g[s] = float(rew[s]) + gamma * g[s + 1]
    return g


def windows(episodes, p, rng, b, k):
    """B windows: context frames (s - 1, s), actions s .. s + K - 1, targets G_s .. G_{s+K} and
    their mask (frames past the episode's end are masked)."""
    h, w = episodes[0]["obs"].shape[2:]
    a = episodes[0]["act"].shape[1]
    frames = np.empty((b, 2, 3, h, w), np.uint8)
    acts = np.zeros((b, k, a), np.float32)
    tgt = np.zeros((b, k + 1), np.float32)
    valid = np.zeros((b, k + 1), np.float32)
    for j, ei in enumerate(rng.choice(len(episodes), size=b, p=p)):
        e = episodes[ei]
        t_len = e["act"].shape[0]
        s = int(rng.integers(0, t_len))
        frames[j, 0], frames[j, 1] = e["obs"][max(0, s - 1)], e["obs"][s]
        n = min(k, t_len - s)  # actions available from s
        acts[j, :n] = e["act"][s: s + n]
        tgt[j, : n + 1] = e["ret"][s: s + n + 1]
        valid[j, : n + 1] = 1.0
    return frames, acts, tgt, valid


def imagined_latents(model, frames, acts, torch):
    """[B, K + 1, D]: the encoded context's z_s, then K open-loop steps (no gradient)."""
    with torch.no_grad():
        z_prev, z = model.encoder(frames[:, 0]), model.encoder(frames[:, 1])
        zs = [z]
        for i in range(acts.shape[1]):
            z_prev, z = z, model.dynamics(z, z_prev, acts[:, i])
            zs.append(z)
    return torch.stack(zs, 1)


def evaluate(model, episodes, k, device, torch, pl, rng):
    """Held-out: per horizon (0 = the encoded frame, then imagined k steps ahead) the mean
    absolute error of V and its Pearson correlation with G over up to 256 windows."""
    p = np.array([e["act"].shape[0] for e in episodes], np.float64)
    fr, ac, tg, va = windows(episodes, p / p.sum(), rng, 256, k)
    fr = torch.from_numpy(fr).to(device).float().div_(255.0)
    zs = imagined_latents(model, fr, torch.from_numpy(ac).to(device), torch)
    with torch.no_grad():
        v = pl.symexp(model.value(zs.flatten(0, 1))).view(zs.shape[0], -1).cpu().numpy()
    out = {}
    for h in sorted({0, min(15, k), k}):
        m = va[:, h] > 0
        if m.sum() < 3:
            continue
        pred, true = v[m, h], tg[m, h]
        r = float(np.corrcoef(pred, true)[0, 1]) if pred.std() > 0 and true.std() > 0 else 0.0
        out[f"k{h}"] = {"mae": round(float(np.abs(pred - true).mean()), 3), "pearson": round(r, 3),
                        "target_std": round(float(true.std()), 3), "n": int(m.sum())}
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--init", required=True, help="the latent checkpoint to give a value head")
    p.add_argument("--data", required=True, help="dataset folders or .npz packs, comma-separated")
    p.add_argument("--out", required=True, help="checkpoint to write (the init's weights + value)")
    p.add_argument("--data-weights", default="",
                   help="sampling weight per --data folder, comma-separated (default: all 1)")
    p.add_argument("--eval-data", default="", help="held-out datasets, comma-separated")
    p.add_argument("--eval-episodes", type=int, default=24, help="episodes per eval dataset")
    p.add_argument("--eval-every", type=int, default=500)
    p.add_argument("--gamma", type=float, default=0.99,
                   help="discount of the value (the planner's --gamma)")
    p.add_argument("--steps", type=int, default=2000)
    p.add_argument("--batch", type=int, default=64, help="windows per batch (B)")
    p.add_argument("--horizon", type=int, default=45,
                   help="open-loop steps per window (K): the plan lengths the head will see")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--lr-final", type=float, default=1e-4, help="cosine decay target")
    add_run_flags(p, 500)
    args = p.parse_args()

    import parallax_latent as pl

    torch, device = torch_device(args, fail)
    for name in ("steps", "batch", "horizon"):
        if getattr(args, name) < 1:
            fail(f"--{name} must be positive, got {getattr(args, name)}", 2)
    if not (0.0 < args.gamma < 1.0):
        fail(f"--gamma must be in (0, 1), got {args.gamma}", 2)
    try:
        init = pl.load_checkpoint(args.init)
    except (OSError, ValueError, RuntimeError) as e:
        fail(f"--init {args.init}: {e}".replace("\n", " "), 2)
    episodes, eval_eps, _, h, w, a = load_training_data(
        args.data, args.eval_data, args.eval_episodes, load_dataset, fail)
    for key, have in (("height", h), ("width", w), ("action_size", a)):
        if init.cfg[key] != have:
            fail(f"--init {args.init}: field '{key}' is {init.cfg[key]}, the data has {have}", 2)
    weights_of = data_weights(args.data_weights, args.data, fail)
    for e in episodes + eval_eps:
        e["ret"] = returns_to_go(e["rew"], e["term"], args.gamma).astype(np.float32)

    torch.manual_seed(args.seed)
    cfg = dict(init.cfg, value_gamma=args.gamma)
    model = pl.LatentWorldModel(cfg).to(device)
    model.load_state_dict(init.state_dict(), strict=False)  # everything but the new head
    for name, q in model.named_parameters():
        q.requires_grad_(name.startswith("value."))
    model.eval()
    opt = torch.optim.Adam(model.value.parameters(), lr=args.lr)
    rng = np.random.default_rng(args.seed)
    state = TrainState(args.out, model, opt, rng, torch)
    if args.resume:
        state.resume("train_value")
    lens = np.array([e["act"].shape[0] * weights_of[e["dataset"]] for e in episodes], np.float64)
    prob = lens / lens.sum()
    g_all = np.concatenate([e["ret"] for e in episodes])
    print(f"train_value: {len(episodes)} episodes; returns G in [{g_all.min():.2f}, "
          f"{g_all.max():.2f}], mean {g_all.mean():.2f}; gamma {args.gamma}", file=sys.stderr)
    log = JsonLog(args.log)
    eval_rng_seed = args.seed + 1

    def save():
        pl.save_checkpoint(args.out, model, {"training": json.dumps(
            {"step": state.step, "compute_s": round(state.compute_s, 1), "args": vars(args)})})
        state.save()

    t_start = t0 = time.time()
    loss_sum, n_sum = 0.0, 0
    while state.step < args.steps:
        frac = state.step / args.steps
        lr = args.lr_final + 0.5 * (args.lr - args.lr_final) * (1 + math.cos(math.pi * frac))
        for g in opt.param_groups:
            g["lr"] = lr
        fr, ac, tg, va = windows(episodes, prob, rng, args.batch, args.horizon)
        fr = torch.from_numpy(fr).to(device).float().div_(255.0)
        zs = imagined_latents(model, fr, torch.from_numpy(ac).to(device), torch)
        tg, va = torch.from_numpy(tg).to(device), torch.from_numpy(va).to(device)
        pred = model.value(zs.flatten(0, 1)).view(tg.shape)
        loss = (((pred - pl.symlog(tg)) ** 2) * va).sum() / va.sum().clamp_min(1.0)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        state.step += 1
        loss_sum += float(loss.detach())
        n_sum += 1
        if state.step % 100 == 0 or state.step == args.steps:
            dt = time.time() - t0
            state.compute_s += dt
            log.emit({"step": state.step, "lr": round(lr, 6),
                      "value_mse_symlog": round(loss_sum / n_sum, 5),
                      "compute_s": round(state.compute_s, 1)})
            loss_sum, n_sum, t0 = 0.0, 0, time.time()
        if eval_eps and (state.step % args.eval_every == 0 or state.step == args.steps):
            te = time.time()
            log.emit({"step": state.step, "eval": evaluate(
                model, eval_eps, args.horizon, device, torch, pl,
                np.random.default_rng(eval_rng_seed)),
                "note": "k: steps imagined before V is read; mae in return units"})
            t0 += time.time() - te
        if state.step % args.checkpoint_every == 0 or state.step == args.steps:
            save()
        if args.max_seconds and time.time() - t_start > args.max_seconds:
            save()
            print(f"train_value: stopped after --max-seconds at step {state.step} "
                  "(resume with --resume)", file=sys.stderr)
            break
    log.close()


if __name__ == "__main__":
    main()
