"""What the Python trainers of the model families share (train_unet.py, train_latent.py, and the
pose-space trainers train_pose_dynamics.py and train_pose_world.py): loading the training and
held-out datasets, the JSON-lines log, the resumable training state, the rollout schedule flag and
writing a parallax-model/2 checkpoint."""

from __future__ import annotations

import json
import math
import os
import sys


def load_training_data(data: str, eval_data: str, eval_episodes: int, load_dataset, fail):
    """Returns (episodes, eval_episodes, meta of the first dataset, H, W, A). `data` and
    `eval_data` are comma-separated dataset folders or packs; they must agree on the scene, the
    frame size and the action size (else fail() with one line). Each training episode's
    "dataset" is the index of its folder in `data`."""
    episodes, meta0 = [], None
    for index, folder in enumerate([d for d in data.split(",") if d]):
        eps, meta = load_dataset(folder)
        for e in eps:
            e["dataset"] = index  # which --data folder (for per-dataset sampling weights)
        if meta0 and meta.get("scene_name") != meta0.get("scene_name"):
            fail(f"{folder}: scene '{meta.get('scene_name')}' differs from '{meta0.get('scene_name')}'")
        meta0 = meta0 or meta
        episodes += eps
    if not episodes:
        fail("--data: no episodes", 2)
    h, w = episodes[0]["obs"].shape[2:]
    a = episodes[0]["act"].shape[1]
    for e in episodes:
        if e["obs"].shape[2:] != (h, w) or e["act"].shape[1] != a:
            fail("datasets disagree on frame or action size")
    held_out = []
    for folder in [d for d in eval_data.split(",") if d]:
        held_out += load_dataset(folder, eval_episodes)[0]
    return episodes, held_out, meta0, int(h), int(w), int(a)


def add_run_flags(p, checkpoint_every: int):
    """The flags every trainer has: seed, threads, device, checkpoint cadence, log, resume and
    the time limit."""
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--device", default="cpu")
    p.add_argument("--checkpoint-every", type=int, default=checkpoint_every)
    p.add_argument("--log", default="")
    p.add_argument("--resume", action="store_true")
    p.add_argument("--max-seconds", type=float, default=0, help="stop (resumably) after this long")
    p.add_argument("--time-schedule", action="store_true",
                   help="with --max-seconds: the learning-rate (and rollout) schedule runs over "
                   "whichever of --steps or --max-seconds ends first, so a run cut by time still "
                   "anneals (a time budget on a machine of unknown speed; not bit-reproducible)")


def schedule_fraction(args, step: int, t_start: float) -> float:
    """How far along the schedule the run is: step / --steps, or with --time-schedule the larger
    of that and the elapsed fraction of --max-seconds."""
    import time

    frac = step / args.steps
    if args.time_schedule and args.max_seconds:
        frac = max(frac, (time.time() - t_start) / args.max_seconds)
    return min(frac, 1.0)


def end_time_schedule(who: str, step: int, t_start: float, lr: float, save) -> None:
    """--time-schedule's end: the checkpoint saved, one line saying where the schedule ended."""
    import time

    save()
    print(f"{who}: --time-schedule: the schedule ended after {time.time() - t_start:.0f} s at "
          f"step {step} (last learning rate {lr:.3g})", file=sys.stderr)


def torch_device(args, fail):
    """(torch, device) for --threads and --device; fail() with exit 2 when CUDA is asked for and
    absent; and for --time-schedule without --max-seconds."""
    if args.time_schedule and not args.max_seconds > 0:
        fail("--time-schedule needs --max-seconds (the time the schedule runs over)", 2)
    import torch

    torch.set_num_threads(max(1, args.threads))
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        fail("--device cuda: no CUDA device is available", 2)
    return torch, device


def data_weights(text: str, data: str, fail):
    """The sampling weight of each --data folder from --data-weights (default: all 1); fail()
    with exit 2 unless it is one finite positive number per folder."""
    folders = [d for d in data.split(",") if d]
    if not text:
        return [1.0] * len(folders)
    try:
        weights = [float(x) for x in text.split(",")]
    except ValueError:
        fail(f"--data-weights: '{text}' is not a list of numbers", 2)
    if len(weights) != len(folders) or not all(math.isfinite(x) and x > 0 for x in weights):
        fail(f"--data-weights: need {len(folders)} positive numbers (one per --data folder), "
             f"got '{text}'", 2)
    return weights


class JsonLog:
    """One JSON object per line, appended to `path` (if any) and printed on stderr."""

    def __init__(self, path: str):
        self.f = open(path, "a") if path else None

    def emit(self, rec: dict):
        line = json.dumps(rec)
        if self.f:
            self.f.write(line + "\n")
            self.f.flush()
        print(line, file=sys.stderr)

    def close(self):
        if self.f:
            self.f.close()


class TrainState:
    """The resumable state next to a checkpoint (OUT.state): model, optimizer, step, compute
    seconds, NumPy and torch RNG states. save() is atomic (temporary file + rename)."""

    def __init__(self, out: str, model, opt, rng, torch):
        self.path = out + ".state"
        self.model, self.opt, self.rng, self.torch = model, opt, rng, torch
        self.step, self.compute_s = 0, 0.0

    def resume(self, who: str) -> bool:
        if not os.path.exists(self.path):
            return False
        st = self.torch.load(self.path, map_location="cpu", weights_only=False)
        self.model.load_state_dict(st["model"])
        self.opt.load_state_dict(st["optimizer"])
        self.step, self.compute_s = st["step"], st.get("compute_s", 0.0)
        self.rng.bit_generator.state = st["numpy_rng"]
        self.torch.set_rng_state(st["torch_rng"])
        print(f"{who}: resumed {self.path} at step {self.step}", file=sys.stderr)
        return True

    def save(self):
        st = {"model": self.model.state_dict(), "optimizer": self.opt.state_dict(),
              "step": self.step, "compute_s": self.compute_s,
              "numpy_rng": self.rng.bit_generator.state, "torch_rng": self.torch.get_rng_state()}
        tmp = self.path + f".tmp.{os.getpid()}"
        self.torch.save(st, tmp)
        os.replace(tmp, self.path)


def parse_rollout(text: str, fail):
    """--rollout LEN:UNTIL,...: the open-loop window length up to each fraction of the steps, as
    [(length, until)]; refused in one line (exit 2) unless every length is >= 1 and the last
    stage reaches 1."""
    stages = []
    for part in text.split(","):
        try:
            n, until = part.split(":")
            stages.append((int(n), float(until)))
        except ValueError:
            fail(f"--rollout: '{part}' is not LEN:UNTIL", 2)
    if any(n < 1 for n, _ in stages) or stages[-1][1] < 1.0:
        fail("--rollout: lengths must be >= 1 and the last stage must reach 1", 2)
    return stages


def save_model_file(path: str, family: str, net, config: dict):
    """A "parallax-model/2" checkpoint {"parallax_format", "family", "config" (JSON text),
    "weights" {name: tensor}}: a temporary file, fsynced, then renamed over `path`."""
    import torch

    payload = {"parallax_format": "parallax-model/2", "family": family, "config": json.dumps(config),
               "weights": {k: v.detach().clone().contiguous() for k, v in net.state_dict().items()}}
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        torch.save(payload, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
