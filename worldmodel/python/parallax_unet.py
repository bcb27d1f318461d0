"""The `unet` world-model family in PyTorch: the training-side twin of worldmodel/src/unet.cpp.

An action-conditioned, frame-conditioned U-Net. It reads the last C frames and the action taken
after the last of them, and predicts the next frame as a residual added to the last frame (the
static scene comes from the frame, the network only draws what changes), plus the reward received
on arriving there and whether the episode goes on after it.

    x      = [f_{t-C+1} .. f_t] - 0.5 (3C planes) ++ a_t broadcast to A planes      [B, 3C+A, H, W]
    stem   : conv3x3 -> SiLU -> conv3x3 -> SiLU                                     [B, c0, H, W]
    down_i : conv3x3/2 -> GroupNorm -> SiLU -> conv3x3 -> GroupNorm -> SiLU          [B, c_i, H/2^i, W/2^i]
    film   : MLP(a_t) -> (gamma, beta);  mid = SiLU(conv3x3(h * (1 + gamma) + beta))
    up_i   : nearest x2 -> concat skip -> conv3x3 -> GroupNorm -> SiLU -> conv3x3 -> SiLU
    out    : conv3x3 (zero-initialised)  -> delta;  f_{t+1} = clamp(f_t + delta, 0, 1)
             output "warp": also flow = conv3x3 (zero-initialised) -> [B, 2, H, W], a displacement
             in pixels (x, y); f_{t+1} = clamp(warp(f_t, flow) + delta, 0, 1), where warp samples
             f_t bilinearly at each pixel's centre plus its flow (borders repeated). A body that
             moves by a fraction of a pixel is then one number per pixel, not a drawn residual.
             output "anchored": the weights of "warp", but in a rollout the image is sampled once:
             the state carries the last observed frame A (the anchor), the accumulated flow G and
             the accumulated residual D (both zero when a frame is observed):
             G' = flow + warp(G, flow), D' = warp(D, flow) + delta, f_{t+1} = clamp(warp(A, G')
             + D', 0, 1). One step from an observed frame equals "warp" exactly; over a rollout
             the warp of "warp" resamples (blurs) the moving bodies every step, this one only
             the smooth flow field and the small residual.
    heads  : reward_input "bottleneck" (default): conv1x1 (c3 -> 16) on mid -> flatten -> Linear
             -> SiLU -> Linear -> [symlog r, cont logit]
             reward_input "frame": the heads read the predicted frame itself, not the dynamics'
             features: y = [clamp(f_{t+1}, 0, 1) - 0.5, x and y coordinate planes in [-1, 1]]
             -> 4 x (conv3x3/2 -> SiLU) (16, 32, 64, 64 channels) -> flatten ++ a_t -> Linear
             -> SiLU -> Linear -> [symlog r, cont logit]. The reward is then a learned function
             of what the frame shows (trained on true frames and on the model's own rollouts),
             so that what does not change the reward (where the pusher is) does not move it.
             reward_input "keypoints": the heads read the predicted frame through K spatial
             keypoints: y as above -> conv3x3/2 (16) -> SiLU -> conv3x3 (32) -> SiLU -> conv3x3
             (K = keypoints) -> per channel a softmax over the H/2 x W/2 positions -> its
             expected x and y in [-1, 1] and the logsumexp of its logits (how sure) -> 3K
             features ++ a_t -> Linear -> SiLU -> Linear -> SiLU -> Linear -> [symlog r, cont
             logit]. A body's position enters as two numbers that move smoothly with it, so
             rewards that are distances between bodies (push's -|cube - goal|) are a small
             function of them and plans that move the cube a little are told apart.

Parameter names are the contract with the C++ implementation (unet.cpp): the C++ loader reads
these names from the checkpoint and tests/python/unet_reference.py checks both forward passes
agree on the same weights.

Checkpoint (torch.save, zip): {"parallax_format": "parallax-model/2", "family": "unet",
"config": JSON text, "weights": {name: f32 CPU tensor}}; C++ reads it with torch::pickle_load.
"""

from __future__ import annotations

import json
import os
import tempfile

import torch
from torch import nn
import torch.nn.functional as F

FORMAT = "parallax-model/2"
FAMILY = "unet"


def default_config(height: int, width: int, action_size: int) -> dict:
    return {
        "family": FAMILY,
        "height": height,
        "width": width,
        "action_size": action_size,
        "context_frames": 2,
        "channels": [16, 32, 64, 128],
        "groups": 8,
        "action_hidden": 64,
        "head_channels": 16,
        "head_hidden": 128,
        "reward_input": "bottleneck",
        "output": "residual",
    }


def validate_config(cfg: dict, source: str = "config") -> dict:
    def need(key, ok, what):
        if key not in cfg:
            raise ValueError(f"{source}: field '{key}' is missing")
        if not ok(cfg[key]):
            raise ValueError(f"{source}: field '{key}' is {cfg[key]!r}, expected {what}")

    need("family", lambda v: v == FAMILY, f"'{FAMILY}'")
    need("height", lambda v: isinstance(v, int) and 16 <= v <= 1024, "an int in [16, 1024]")
    need("width", lambda v: isinstance(v, int) and 16 <= v <= 1024, "an int in [16, 1024]")
    need("action_size", lambda v: isinstance(v, int) and 1 <= v <= 64, "an int in [1, 64]")
    need("context_frames", lambda v: isinstance(v, int) and 1 <= v <= 8, "an int in [1, 8]")
    need("channels", lambda v: isinstance(v, list) and 2 <= len(v) <= 6, "a list of 2..6 ints")
    cfg.setdefault("reward_input", "bottleneck")  # checkpoints before the frame head
    need("reward_input", lambda v: v in REWARD_INPUTS, "'bottleneck', 'frame' or 'keypoints'")
    cfg.setdefault("output", "residual")  # checkpoints before the warp output
    need("output", lambda v: v in OUTPUTS, "'residual', 'warp' or 'anchored'")
    if cfg["reward_input"] == "frame":
        need("height", lambda v: v % 16 == 0, "a multiple of 16 (reward_input 'frame')")
        need("width", lambda v: v % 16 == 0, "a multiple of 16 (reward_input 'frame')")
    if cfg["reward_input"] == "keypoints":
        cfg.setdefault("keypoints", KEYPOINTS)
        need("keypoints", lambda v: isinstance(v, int) and 1 <= v <= 64, "an int in [1, 64]")
        need("height", lambda v: v % 2 == 0, "even (reward_input 'keypoints')")
        need("width", lambda v: v % 2 == 0, "even (reward_input 'keypoints')")
    return cfg


REWARD_INPUTS = ("bottleneck", "frame", "keypoints")
OUTPUTS = ("residual", "warp", "anchored")
FLOW_OUTPUTS = ("warp", "anchored")  # outputs with the flow conv
FRAME_READERS = ("frame", "keypoints")  # heads that read the predicted frame, not the bottleneck
KEYPOINTS = 16
KEYPOINT_CHANNELS = (16, 32)


FRAME_HEAD_CHANNELS = (16, 32, 64, 64)


class FrameHead(nn.Module):
    """Reward and continue from the predicted frame (reward_input "frame")."""

    def __init__(self, cfg: dict):
        super().__init__()
        ch = (5,) + FRAME_HEAD_CHANNELS
        self.convs = nn.ModuleList([nn.Conv2d(ch[i], ch[i + 1], 3, stride=2, padding=1)
                                    for i in range(len(FRAME_HEAD_CHANNELS))])
        n = FRAME_HEAD_CHANNELS[-1] * (cfg["height"] // 16) * (cfg["width"] // 16)
        self.fc1 = nn.Linear(n + cfg["action_size"], cfg["head_hidden"])
        self.fc2 = nn.Linear(cfg["head_hidden"], 2)

    def forward(self, frame, action):
        """frame [B, 3, H, W] (any range; clamped to [0, 1]), action [B, A] -> [B, 2]."""
        y = coordinate_planes(frame)
        for conv in self.convs:
            y = F.silu(conv(y))
        return self.fc2(F.silu(self.fc1(torch.cat([y.flatten(1), action.to(y.dtype)], dim=1))))


def coordinate_planes(frame):
    """[clamp(frame, 0, 1) - 0.5, x, y] with x and y in [-1, 1]: [B, 5, H, W]."""
    b, _, h, w = frame.shape
    ys = torch.linspace(-1, 1, h, dtype=frame.dtype, device=frame.device)
    xs = torch.linspace(-1, 1, w, dtype=frame.dtype, device=frame.device)
    yy = ys[:, None].expand(h, w)[None, None].expand(b, 1, h, w)
    xx = xs[None, :].expand(h, w)[None, None].expand(b, 1, h, w)
    return torch.cat([frame.clamp(0, 1) - 0.5, xx, yy], dim=1)


class KeypointHead(nn.Module):
    """Reward and continue from K spatial keypoints of the predicted frame (reward_input
    "keypoints")."""

    def __init__(self, cfg: dict):
        super().__init__()
        c1, c2, k = KEYPOINT_CHANNELS[0], KEYPOINT_CHANNELS[1], cfg["keypoints"]
        self.conv1 = nn.Conv2d(5, c1, 3, stride=2, padding=1)
        self.conv2 = nn.Conv2d(c1, c2, 3, padding=1)
        self.conv3 = nn.Conv2d(c2, k, 3, padding=1)
        self.fc1 = nn.Linear(3 * k + cfg["action_size"], cfg["head_hidden"])
        self.fc2 = nn.Linear(cfg["head_hidden"], cfg["head_hidden"])
        self.fc3 = nn.Linear(cfg["head_hidden"], 2)

    def forward(self, frame, action):
        """frame [B, 3, H, W] (any range; clamped to [0, 1]), action [B, A] -> [B, 2]. Always in
        f32, also under bf16 autocast: bf16's 8-bit mantissa on the softmax's logits would move
        the keypoints by fractions of a cell, the precision the head exists for."""
        with torch.autocast(frame.device.type, enabled=False):
            return self._forward(frame.float(), action.float())

    def _forward(self, frame, action):
        y = F.silu(self.conv2(F.silu(self.conv1(coordinate_planes(frame)))))
        logits = self.conv3(y)
        b, k, h, w = logits.shape
        logits = logits.flatten(2)
        p = torch.softmax(logits, dim=-1)
        ys = torch.linspace(-1, 1, h, dtype=p.dtype, device=p.device)
        xs = torch.linspace(-1, 1, w, dtype=p.dtype, device=p.device)
        ex = (p.view(b, k, h, w).sum(dim=2) * xs).sum(dim=-1)
        ey = (p.view(b, k, h, w).sum(dim=3) * ys).sum(dim=-1)
        feats = torch.cat([ex, ey, torch.logsumexp(logits, dim=-1), action], dim=1)
        return self.fc3(F.silu(self.fc2(F.silu(self.fc1(feats)))))


def warp(frame, flow):
    """frame [B, 3, H, W] sampled bilinearly at each pixel's centre plus flow [B, 2, H, W] (x, y
    in pixels), borders repeated: grid_sample with align_corners False, so that pixel j's centre
    is at (2j + 1) / W - 1 in its normalised coordinates (zero flow returns the frame: exactly
    where W and H are powers of two). Always in f32, also under bf16 autocast: bf16's 8-bit
    mantissa would put the sample points up to a quarter of a pixel off. Returns f32."""
    with torch.autocast(frame.device.type, enabled=False):
        frame, flow = frame.float(), flow.float()
        b, _, h, w = frame.shape
        xs = (torch.arange(w, dtype=flow.dtype, device=flow.device) * 2 + 1) / w - 1
        ys = (torch.arange(h, dtype=flow.dtype, device=flow.device) * 2 + 1) / h - 1
        gx = xs[None, None, :] + flow[:, 0] * (2.0 / w)
        gy = ys[None, :, None] + flow[:, 1] * (2.0 / h)
        return F.grid_sample(frame, torch.stack([gx, gy], dim=-1), mode="bilinear",
                             padding_mode="border", align_corners=False)


def symlog(x):
    return torch.sign(x) * torch.log1p(torch.abs(x))


def symexp(x):
    return torch.sign(x) * torch.expm1(torch.abs(x))


class Down(nn.Module):
    def __init__(self, cin, cout, groups):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=2, padding=1)
        self.norm1 = nn.GroupNorm(min(groups, cout), cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.norm2 = nn.GroupNorm(min(groups, cout), cout)

    def forward(self, x):
        x = F.silu(self.norm1(self.conv1(x)))
        return F.silu(self.norm2(self.conv2(x)))


class Up(nn.Module):
    def __init__(self, cin, cskip, cout, groups):
        super().__init__()
        self.conv1 = nn.Conv2d(cin + cskip, cout, 3, padding=1)
        self.norm1 = nn.GroupNorm(min(groups, cout), cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)

    def forward(self, x, skip):
        x = F.interpolate(x, scale_factor=2.0, mode="nearest")
        x = torch.cat([x, skip], dim=1)
        x = F.silu(self.norm1(self.conv1(x)))
        return F.silu(self.conv2(x))


class UNetWorldModel(nn.Module):
    def __init__(self, cfg: dict):
        super().__init__()
        self.cfg = validate_config(dict(cfg))
        ch = cfg["channels"]
        c, a, g = cfg["context_frames"], cfg["action_size"], cfg["groups"]
        self.stem1 = nn.Conv2d(3 * c + a, ch[0], 3, padding=1)
        self.stem2 = nn.Conv2d(ch[0], ch[0], 3, padding=1)
        self.downs = nn.ModuleList([Down(ch[i - 1], ch[i], g) for i in range(1, len(ch))])
        self.film1 = nn.Linear(a, cfg["action_hidden"])
        self.film2 = nn.Linear(cfg["action_hidden"], 2 * ch[-1])
        self.mid = nn.Conv2d(ch[-1], ch[-1], 3, padding=1)
        self.ups = nn.ModuleList(
            [Up(ch[i], ch[i - 1], ch[i - 1], g) for i in range(len(ch) - 1, 0, -1)])
        self.out = nn.Conv2d(ch[0], 3, 3, padding=1)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)
        if self.cfg["output"] in FLOW_OUTPUTS:
            self.flow = nn.Conv2d(ch[0], 2, 3, padding=1)
            nn.init.zeros_(self.flow.weight)
            nn.init.zeros_(self.flow.bias)
        fh = cfg["height"] >> (len(ch) - 1)
        fw = cfg["width"] >> (len(ch) - 1)
        if cfg["reward_input"] == "frame":
            self.frame_head = FrameHead(cfg)
        elif cfg["reward_input"] == "keypoints":
            self.frame_head = KeypointHead(self.cfg)
        else:
            self.head_conv = nn.Conv2d(ch[-1], cfg["head_channels"], 1)
            self.head1 = nn.Linear(cfg["head_channels"] * fh * fw, cfg["head_hidden"])
            self.head2 = nn.Linear(cfg["head_hidden"], 2)
        nn.init.zeros_(self.film2.weight)
        nn.init.zeros_(self.film2.bias)

    def forward(self, frames, action):
        """frames [B, C, 3, H, W] f32 in [0, 1] (oldest first), action [B, A] f32.
        Returns (next frame [B, 3, H, W] unclamped, symlog reward [B], cont logit [B]): one step
        from observed frames (output "anchored": as "warp"; rollouts use step())."""
        return self.step(frames, action, None)[:3]

    def step(self, frames, action, carry, return_flow=False):
        """One step of a rollout: forward() plus what output "anchored" carries from step to
        step (None after observed frames). Returns (next, symlog reward, cont logit, carry'):
        carry' is (anchor, accumulated flow, accumulated residual) for "anchored", else None;
        frames are the window the network reads (the last C predicted or observed frames).
        return_flow: also return the flow the frame was sampled with [B, 2, H, W] ("warp": this
        step's; "anchored": the accumulated one, from the anchor; None for "residual")."""
        b, c, _, h, w = frames.shape
        last = frames[:, -1]
        x = (frames - 0.5).reshape(b, 3 * c, h, w)
        planes = action[:, :, None, None].expand(b, action.shape[1], h, w)
        x = torch.cat([x, planes], dim=1)
        x = F.silu(self.stem1(x))
        x = F.silu(self.stem2(x))
        skips = [x]
        for down in self.downs:
            x = down(x)
            skips.append(x)
        gb = self.film2(F.silu(self.film1(action)))
        gamma, beta = gb.chunk(2, dim=1)
        x = x * (1 + gamma[:, :, None, None]) + beta[:, :, None, None]
        x = F.silu(self.mid(x))
        if self.cfg["reward_input"] == "bottleneck":
            heads = self.head2(F.silu(self.head1(self.head_conv(x).flatten(1))))
        skips.pop()
        for up in self.ups:
            x = up(x, skips.pop())
        out = self.cfg["output"]
        if out == "anchored":
            flow, delta = self.flow(x), self.out(x)
            if carry is None:  # after an observed frame: anchor it, nothing accumulated yet
                anchor, acc, res = last, flow.float(), delta.float()
            else:
                anchor, acc, res = carry
                acc = flow.float() + warp(acc, flow)
                res = warp(res, flow) + delta.float()
            nxt = warp(anchor, acc) + res
            carry = (anchor, acc, res)
            sampled = acc
        else:
            sampled = self.flow(x) if out == "warp" else None
            nxt = (warp(last, sampled) if out == "warp" else last) + self.out(x)
            carry = None
        if self.cfg["reward_input"] in FRAME_READERS:
            heads = self.frame_head(nxt.detach(), action)  # the pixels learn from pixels only
        if return_flow:
            return nxt, heads[:, 0], heads[:, 1], carry, sampled
        return nxt, heads[:, 0], heads[:, 1], carry


def save_checkpoint(path: str, model: nn.Module, extra: dict | None = None) -> None:
    """Atomic: a temporary file in the same folder, fsync, rename."""
    payload = {
        "parallax_format": FORMAT,
        "family": model.cfg.get("family", FAMILY),
        "config": json.dumps(model.cfg, sort_keys=True),
        "weights": {k: v.detach().to("cpu", torch.float32).contiguous().clone()
                    for k, v in model.state_dict().items()},
    }
    if extra:
        payload.update(extra)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".tmp.", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(payload, f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes it 0600; a model file is for everyone to read
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def read_payload(path: str, family: str, validate) -> tuple[dict, dict]:
    """(payload, validated config) of a Parallax checkpoint of `family`; ValueError naming the
    file and field otherwise. Shared by every family's load_checkpoint()."""
    payload = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(payload, dict) or payload.get("parallax_format") != FORMAT:
        raise ValueError(f"checkpoint '{path}' is not a Parallax model checkpoint "
                         f"(field 'parallax_format' is not '{FORMAT}')")
    if payload.get("family") != family:
        raise ValueError(f"checkpoint '{path}': family {payload.get('family')!r}, expected '{family}'")
    return payload, validate(json.loads(payload["config"]), f"checkpoint '{path}'")


def load_checkpoint(path: str, device="cpu") -> UNetWorldModel:
    payload, cfg = read_payload(path, FAMILY, validate_config)
    model = UNetWorldModel(cfg)
    model.load_state_dict(payload["weights"])
    return model.to(device).eval()
