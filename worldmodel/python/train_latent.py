#!/usr/bin/env python3
"""Train the `latent` world-model family (parallax_latent.py) on Parallax episode datasets.

Each batch: B windows of 2 context frames and K targets from the data. The encoder reads the two
context frames (z_{t-1}, z_t); the dynamics rolls the latent K steps open loop with the data's
actions; losses (masked after an episode's end, step k weighted rho^k):
  consistency  ||z_pred_k - stopgrad(encoder(f_{t+k}))||^2   (the latent step stays on the
               encoder's manifold, TD-MPC2's latent consistency); its weight ramps up from 0
               over the first --consistency-warmup of the steps, so that the encoder first
               learns what the frames hold (from the start it collapses the latent to a
               constant, which satisfies consistency trivially: measured, see the model card)
  reward       (head(z_pred_k) - symlog r_k)^2 and the same on encoder(f_{t+k}) (the encoder
               learns what the reward reads from the true frames), continue: BCE
  poses        (--pose-bodies, --pose-weight) ||poses(z) - xy||^2 on z_pred_k and encoder(f_{t+k}):
               the named bodies' true x, y (dm, from the dataset's infos/poses; a body out of
               the picture, no pixel of its id in infos/ids, has no target) as an auxiliary
               target, so that the latent carries where the objects are through imagination (a
               head new to the run first trains alone for --pose-probe-steps: its random start
               would otherwise push the trained latent around)
  pixels       at J horizons per batch: decoder(z_pred_k, f_t) and decoder(encoder(f_{t+k}), f_t)
               against f_{t+k}; pixels that changed since f_t weigh (1 + --move-weight)
The checkpoint is what the C++ library loads (worldmodel/src/latent.cpp); resumable
(--resume, --max-seconds), one JSON line per 50 steps on stderr and in --log.

    train_latent.py --data runs/push/random,runs/push/noisy --eval-data runs/push/heldout \\
        --steps 3000 --out push-latent.pt --log train.jsonl --resume
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
                          load_training_data, end_time_schedule, schedule_fraction, torch_device)
from train_unet import Sampler, load_dataset  # noqa: E402


def fail(msg: str, code: int = 1):
    print(f"train_latent: error: {msg}", file=sys.stderr)
    sys.exit(code)


def pose_bodies_index(names: str, meta: dict):
    """Body indices in the dataset's infos/poses for comma-separated body names (the scene's
    "bodies" order, from the dataset's scene_json)."""
    try:
        bodies = [b.get("name", "") for b in json.loads(meta.get("scene_json") or "{}").get("bodies", [])]
    except (json.JSONDecodeError, AttributeError):
        bodies = []
    out = []
    for n in [x for x in names.split(",") if x]:
        if n not in bodies:
            fail(f"--pose-bodies: '{n}' is not a body of scene '{meta.get('scene_name')}' "
                 f"(bodies: {', '.join(bodies) or 'none listed'})", 2)
        out.append(bodies.index(n))
    return out


def window_poses(sampler, bodies, k_len):
    """([B, K, 2 x bodies] x, y (dm), [B, K, 2 x bodies] mask) of the targets of the windows of
    the sampler's last batch (past an episode's end: its last pose; those steps are masked
    anyway). The mask is 0 where the body is out of the picture (no pixel of its id in the
    dataset's infos/ids: where it is cannot be seen), 1 elsewhere and for data without ids."""
    out = np.zeros((len(sampler.last), k_len, 2 * len(bodies)), np.float32)
    mask = np.ones_like(out)
    for j, (ei, s) in enumerate(sampler.last):
        e = sampler.eps[ei]
        p = e["poses"]
        t = np.minimum(np.arange(s + 1, s + 1 + k_len), p.shape[0] - 1)
        out[j] = (p[t][:, bodies, :2] * 10.0).reshape(k_len, -1)
        if "visible" in e:
            mask[j] = np.repeat(e["visible"][t][:, bodies], 2, axis=1).astype(np.float32)
    return out, mask


def open_loop_eval(model, episodes, horizon, device, torch, pl, bodies=None):
    """Open loop from each episode's first two frames, all episodes batched: per horizon the
    PSNR of the mean MSE over episodes for the model and for 'nothing moves', and the reward MAE;
    with a pose head, its mean position error (cm) per body at those horizons."""
    eps = [e for e in episodes if e["act"].shape[0] >= horizon + 1]
    if not eps:
        return {}
    poses = None
    if bodies and hasattr(model, "poses") and all("poses" in e for e in eps):
        poses = torch.from_numpy(np.stack([e["poses"][1: horizon + 2][:, bodies, :2] for e in eps]))
    obs = torch.from_numpy(np.stack([e["obs"][: horizon + 2] for e in eps])).to(device).float() / 255
    act = torch.from_numpy(np.stack([e["act"][1: horizon + 1] for e in eps])).to(device)
    rew = torch.from_numpy(np.stack([e["rew"][1: horizon + 1] for e in eps])).to(device)
    out = {}
    with torch.no_grad():
        z_prev, z, last = model.encoder(obs[:, 0]), model.encoder(obs[:, 1]), obs[:, 1]
        mae = 0.0
        for h in range(1, horizon + 1):
            z_prev, z = z, model.dynamics(z, z_prev, act[:, h - 1])
            r = pl.symexp(model.heads(z)[:, 0])
            mae += float((r - rew[:, h - 1]).abs().mean())
            if h in (1, 2, 5, 10, 20, 30, 45):
                pred = torch.round(model.decoder(z, last).clamp(0, 1) * 255) / 255
                true = obs[:, 1 + h]
                m = float(((pred - true) ** 2).mean())
                n = float(((last - true) ** 2).mean())
                out[f"t+{h}"] = [round(-10 * math.log10(max(m, 1e-12)), 2),
                                 round(-10 * math.log10(max(n, 1e-12)), 2)]
                if poses is not None:
                    p = model.poses(z).view(len(eps), -1, 2).cpu() / 10.0
                    err = (p - poses[:, h]).norm(dim=2).mean(0) * 100.0
                    out[f"pose_cm_t+{h}"] = [round(float(x), 2) for x in err]
        out["reward_mae"] = round(mae / horizon, 4)
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", required=True, help="dataset folders or .npz packs, comma-separated")
    p.add_argument("--out", required=True, help="checkpoint to write (the C++ library loads it)")
    p.add_argument("--eval-data", default="", help="held-out datasets, comma-separated")
    p.add_argument("--eval-episodes", type=int, default=24, help="episodes per eval dataset")
    p.add_argument("--eval-every", type=int, default=500)
    p.add_argument("--steps", type=int, default=3000)
    p.add_argument("--batch", type=int, default=32, help="windows per batch (B)")
    p.add_argument("--horizon", type=int, default=16, help="open-loop latent steps per window (K)")
    p.add_argument("--decode-steps", type=int, default=3, help="horizons decoded per batch (J)")
    p.add_argument("--rho", type=float, default=0.98, help="weight of step k: rho^k")
    p.add_argument("--move-weight", type=float, default=4.0)
    p.add_argument("--pixel-weight", type=float, default=200.0)
    p.add_argument("--consistency-weight", type=float, default=1.0)
    p.add_argument("--consistency-warmup", type=float, default=0.2,
                   help="fraction of the steps over which the consistency weight ramps up from 0")
    p.add_argument("--reward-weight", type=float, default=10.0)
    p.add_argument("--cont-weight", type=float, default=0.2)
    p.add_argument("--pose-bodies", default="",
                   help="comma-separated body names: an auxiliary head predicts their x, y from "
                        "the latent (needs the datasets' infos/poses)")
    p.add_argument("--pose-weight", type=float, default=10.0, help="weight of the pose loss")
    p.add_argument("--pose-lr-scale", type=float, default=10.0,
                   help="the pose head's learning rate as a multiple of --lr")
    p.add_argument("--pose-probe-steps", type=int, default=100,
                   help="a pose head new to this run trains alone (its loss does not reach the "
                        "latent) for this many steps first")
    p.add_argument("--data-weights", default="",
                   help="sampling weight per --data folder, comma-separated (default: all 1; windows "
                        "are drawn in proportion to steps x weight)")
    p.add_argument("--init", default="",
                   help="start from this latent checkpoint's weights (fine-tuning; its config wins "
                        "over --latent, --hidden and the channel flags)")
    p.add_argument("--latent", type=int, default=64)
    p.add_argument("--hidden", type=int, default=256)
    p.add_argument("--enc-channels", default="16,32,64,64")
    p.add_argument("--dec-channels", default="32,32,16,8")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--lr-final", type=float, default=1e-4, help="cosine decay target")
    p.add_argument("--clip", type=float, default=1.0)
    add_run_flags(p, 250)
    args = p.parse_args()

    import parallax_latent as pl

    torch, device = torch_device(args, fail)
    for name in ("steps", "batch", "horizon", "decode_steps"):
        if getattr(args, name) < 1:
            fail(f"--{name.replace('_', '-')} must be positive, got {getattr(args, name)}", 2)
    if args.decode_steps > args.horizon:
        fail(f"--decode-steps {args.decode_steps} exceeds --horizon {args.horizon}", 2)

    episodes, eval_eps, meta0, h, w, a = load_training_data(
        args.data, args.eval_data, args.eval_episodes, load_dataset, fail)
    data_index = [e["dataset"] for e in episodes]
    cfg = pl.default_config(h, w, a)
    cfg.update(latent=args.latent, hidden=args.hidden,
               enc_channels=[int(x) for x in args.enc_channels.split(",")],
               dec_channels=[int(x) for x in args.dec_channels.split(",")],
               scene=meta0.get("scene_name", ""))
    try:
        pl.validate_config(dict(cfg), "flags")
    except ValueError as e:
        fail(str(e), 2)
    torch.manual_seed(args.seed)
    init = None
    if args.init:
        try:
            init = pl.load_checkpoint(args.init)
        except (OSError, ValueError, RuntimeError) as e:
            fail(f"--init {args.init}: {e}", 2)
        for key in ("height", "width", "action_size"):
            if init.cfg[key] != cfg[key]:
                fail(f"--init {args.init}: field '{key}' is {init.cfg[key]}, the data has {cfg[key]}", 2)
        cfg = dict(init.cfg)
    pose_names = [x for x in args.pose_bodies.split(",") if x]
    pose_probe_until = 0
    pose_index = pose_bodies_index(args.pose_bodies, meta0) if pose_names else []
    if pose_names:
        if "pose_bodies" in cfg and cfg["pose_bodies"] != pose_names:
            fail(f"--pose-bodies {args.pose_bodies}: --init has pose_bodies {cfg['pose_bodies']}", 2)
        if args.pose_weight < 0 or not math.isfinite(args.pose_weight):
            fail(f"--pose-weight must be a finite number >= 0, got {args.pose_weight}", 2)
        if not (args.pose_lr_scale > 0 and math.isfinite(args.pose_lr_scale)):
            fail(f"--pose-lr-scale must be a finite number > 0, got {args.pose_lr_scale}", 2)
        missing = [i for i, e in enumerate(episodes + eval_eps) if "poses" not in e]
        if missing:
            fail(f"--pose-bodies: {len(missing)} episodes have no infos/poses (a .npz pack?)", 2)
        if "pose_bodies" not in cfg:
            pose_probe_until = max(0, args.pose_probe_steps)
        cfg["pose_bodies"] = pose_names
    elif "pose_bodies" in cfg:
        pose_index = pose_bodies_index(",".join(cfg["pose_bodies"]), meta0)
    model = pl.LatentWorldModel(cfg).to(device)
    if init is not None:
        # A pose head new to this run starts fresh; every other weight must be there.
        missing, unexpected = model.load_state_dict(init.state_dict(), strict=False)
        if unexpected or any(not k.startswith("poses.") for k in missing):
            fail(f"--init {args.init}: weights do not fit (missing {missing}, unexpected {unexpected})", 2)
    # A pose head learns at --pose-lr-scale times the learning rate (a fresh head on a trained
    # latent would otherwise take most of a fine-tuning run to read it).
    pose_params = list(model.poses.parameters()) if hasattr(model, "poses") else []
    pose_ids = {id(q) for q in pose_params}
    groups = [{"params": [q for q in model.parameters() if id(q) not in pose_ids], "scale": 1.0}]
    if pose_params:
        groups.append({"params": pose_params, "scale": args.pose_lr_scale})
    opt = torch.optim.Adam(groups, lr=args.lr)
    rng = np.random.default_rng(args.seed)
    state = TrainState(args.out, model, opt, rng, torch)
    if args.resume:
        state.resume("train_latent")
    weights_of = data_weights(args.data_weights, args.data, fail)
    sampler = Sampler(episodes, 2, rng, [weights_of[i] for i in data_index])
    n_params = sum(q.numel() for q in model.parameters())
    print(f"train_latent: {len(episodes)} episodes, {sum(e['act'].shape[0] for e in episodes)} "
          f"steps; {n_params} parameters; device {device}", file=sys.stderr)
    log = JsonLog(args.log)
    emit = log.emit

    def save():
        pl.save_checkpoint(args.out, model, {"training": json.dumps(
            {"step": state.step, "compute_s": round(state.compute_s, 1), "args": vars(args)})})
        state.save()

    k_len, b = args.horizon, args.batch
    weights = torch.tensor([args.rho ** i for i in range(k_len)], device=device)
    t_start = t0 = time.time()
    lr = args.lr
    sums, n_sum, frames_done = {}, 0, 0
    while state.step < args.steps:
        frac = schedule_fraction(args, state.step, t_start)
        if frac >= 1.0:  # --time-schedule: the time is up
            end_time_schedule("train_latent", state.step, t_start, lr, save)
            break
        lr = args.lr_final + 0.5 * (args.lr - args.lr_final) * (1 + math.cos(math.pi * frac))
        for g in opt.param_groups:
            g["lr"] = lr * g.get("scale", 1.0)  # a state saved before the pose head has no "scale"
        fr, ac, rw, ct, va = sampler.batch(b, k_len)
        ps = pm = None
        if pose_index:
            ps, pm = (torch.from_numpy(x).to(device) for x in window_poses(sampler, pose_index, k_len))
        probing = state.step < pose_probe_until  # a new pose head first learns to read z
        fr = torch.from_numpy(fr).to(device).float().div_(255.0)
        ac, rw, ct, va = (torch.from_numpy(x).to(device) for x in (ac, rw, ct, va))
        model.train()
        last = fr[:, 1]
        z_prev, z = model.encoder(fr[:, 0]), model.encoder(last)
        z_tgt = model.encoder(fr[:, 2:].flatten(0, 1)).view(b, k_len, -1)
        wv = va * weights  # [B, K]
        denom = wv.sum().clamp_min(1e-6)
        preds = []
        loss_cons = loss_rew = loss_cont = loss_pose = 0.0
        for i in range(k_len):
            z_prev, z = z, model.dynamics(z, z_prev, ac[:, i])
            preds.append(z)
            hd = model.heads(z)
            hp = model.heads(z_tgt[:, i])
            loss_rew = loss_rew + (((hp[:, 0] - pl.symlog(rw[:, i])) ** 2) * wv[:, i]).sum()
            loss_cons = loss_cons + (((z - z_tgt[:, i].detach()) ** 2).mean(1) * wv[:, i]).sum()
            loss_rew = loss_rew + (((hd[:, 0] - pl.symlog(rw[:, i])) ** 2) * wv[:, i]).sum()
            loss_cont = loss_cont + (torch.nn.functional.binary_cross_entropy_with_logits(
                hd[:, 1], ct[:, i], reduction="none") * wv[:, i]).sum()
            if ps is not None:
                for zz in (z, z_tgt[:, i]):
                    if probing:
                        zz = zz.detach()
                    loss_pose = loss_pose + ((((model.poses(zz) - ps[:, i]) ** 2) * pm[:, i]).mean(1) *
                                             wv[:, i]).sum()
        loss_cons, loss_rew, loss_cont = loss_cons / denom, loss_rew / denom, loss_cont / denom
        loss_pose = loss_pose / denom
        js = sorted(rng.choice(k_len, size=args.decode_steps, replace=False).tolist())
        zs = torch.cat([torch.stack([preds[j] for j in js], 1), z_tgt[:, js]], 1).flatten(0, 1)
        obs = last[:, None].expand(-1, 2 * len(js), -1, -1, -1).flatten(0, 1)
        target = torch.cat([fr[:, [2 + j for j in js]]] * 2, 1).flatten(0, 1)
        m = torch.cat([va[:, js]] * 2, 1).flatten()
        img = model.decoder(zs, obs)
        moved = ((target - obs).abs().sum(1, keepdim=True) > 0.1).float()
        per = (((img - target) ** 2) * (1.0 + args.move_weight * moved)).mean((1, 2, 3))
        loss_pix = (per * m).sum() / m.sum().clamp_min(1.0)
        w_cons = args.consistency_weight * min(1.0, frac / max(args.consistency_warmup, 1e-9))
        loss = (args.pixel_weight * loss_pix + w_cons * loss_cons +
                args.reward_weight * loss_rew + args.cont_weight * loss_cont +
                (args.pose_weight * loss_pose if ps is not None else 0.0))
        opt.zero_grad(set_to_none=True)
        if not torch.isfinite(loss):
            emit({"step": state.step, "skipped": "non-finite loss"})
            state.step += 1
            continue
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), args.clip)
        opt.step()
        state.step += 1
        frames_done += b * k_len
        plain = float((((img.detach() - target) ** 2).mean((1, 2, 3)) * m).sum() / m.sum().clamp_min(1))
        spread = float(z_tgt.detach().flatten(0, 1).std(0).mean())  # 0: a collapsed latent
        for key, v in (("mse", plain), ("latent_spread", spread), ("consistency", float(loss_cons.detach())),
                       ("reward_mse_symlog", float(loss_rew.detach())), ("cont_bce", float(loss_cont.detach())),
                       ("pose_mse_dm2", float(loss_pose.detach()) if ps is not None else 0.0)):
            sums[key] = sums.get(key, 0.0) + v
        n_sum += 1
        if state.step % 50 == 0 or state.step == args.steps:
            dt = time.time() - t0
            state.compute_s += dt
            emit({"step": state.step, "lr": round(lr, 6), **{k: round(v / n_sum, 6) for k, v in sums.items()},
                  "imagined_steps_per_s": round(frames_done / max(dt, 1e-9), 1),
                  "compute_s": round(state.compute_s, 1)})
            sums, n_sum, frames_done = {}, 0, 0
            t0 = time.time()
        if eval_eps and (state.step % args.eval_every == 0 or state.step == args.steps):
            model.eval()
            te = time.time()
            emit({"step": state.step, "eval": open_loop_eval(model, eval_eps, 45, device, torch, pl, pose_index),
                  "eval_s": round(time.time() - te, 1), "note": "[model dB, nothing-moves dB]"})
            t0 += time.time() - te
        if state.step % args.checkpoint_every == 0 or state.step == args.steps:
            save()
        if args.max_seconds and not args.time_schedule and time.time() - t_start > args.max_seconds:
            save()
            print(f"train_latent: stopped after --max-seconds at step {state.step} (resume with --resume)",
                  file=sys.stderr)
            break
    log.close()


if __name__ == "__main__":
    main()
