"""The `latent` world-model family in PyTorch: the training-side twin of worldmodel/src/latent.cpp.

A latent that rolls forward without pixels (for planners: one small MLP per imagined step) and
a decoder that draws the frame from the latent with skip connections from the last observed
frame (the static scene comes from that frame; the latent carries what moved).

    encoder : one frame f (u8 -> [0,1] - 0.5) ++ x, y coordinate planes            [B, 5, H, W]
              -> 4 x (conv3x3/2 -> SiLU) (enc_channels) -> flatten -> Linear -> SiLU
              -> Linear -> LayerNorm (no affine)                                    z [B, D]
    state   : z_t, z_{t-1} (both [B, D]) and the last observed frame o [B, 3, H, W] u8
    dynamics: z_{t+1} = LayerNorm(z_t + MLP([z_t, z_t - z_{t-1}, a_t]))
              MLP = Linear -> LayerNorm -> SiLU -> Linear -> LayerNorm -> SiLU -> Linear
    heads   : [symlog r, cont logit] = Linear(SiLU(Linear(z_{t+1}))): the reward received on
              arriving in the state, and whether the episode goes on after it
    value   : (optional, config "value_gamma") symlog V = Linear(SiLU(Linear(z))): the return
              discounted by value_gamma expected after arriving in z (train_value.py; the
              planners' terminal value)
    poses   : (optional, config "pose_bodies") Linear(SiLU(Linear(z))) -> [B, 2 x bodies]: the
              named bodies' x, y on the table in decimetres (train_latent.py --pose-bodies: an
              auxiliary target that makes z carry where the objects are, also in imagination)
    decoder : frame features of o: 3 x (conv3x3/2 -> SiLU) at H/2, H/4, H/8
              z -> Linear -> SiLU -> [c0, H/8, W/8]; at each level: concat the frame's features
              -> conv3x3 -> SiLU -> nearest x2; at H: concat o - 0.5 -> conv3x3 -> SiLU ->
              conv3x3 (zero-initialised) -> delta; frame = clamp(o + delta, 0, 1)

The velocity lives in z_t - z_{t-1}: the encoder reads one frame, so re-observing a true frame
(resync) replaces z_t with the encoding of that frame and keeps the belief about t - 1.

Parameter names are the contract with the C++ implementation (latent.cpp): the C++ loader reads
these names from the checkpoint and tests/python/latent_reference.py checks that both forward
passes agree on the same weights.

Checkpoint: as parallax_unet.py ({"parallax_format": "parallax-model/2", "family": "latent",
"config": JSON text, "weights": {name: f32 CPU tensor}}).
"""

from __future__ import annotations

import torch
from torch import nn
import torch.nn.functional as F

from parallax_unet import FORMAT, read_payload, save_checkpoint, symexp, symlog  # noqa: F401

FAMILY = "latent"


def default_config(height: int, width: int, action_size: int) -> dict:
    return {
        "family": FAMILY,
        "height": height,
        "width": width,
        "action_size": action_size,
        "context_frames": 2,
        "latent": 64,
        "hidden": 256,
        "enc_channels": [16, 32, 64, 64],
        "dec_channels": [32, 32, 16, 8],
    }


def validate_config(cfg: dict, source: str = "config") -> dict:
    def need(key, ok, what):
        if key not in cfg:
            raise ValueError(f"{source}: field '{key}' is missing")
        if not ok(cfg[key]):
            raise ValueError(f"{source}: field '{key}' is {cfg[key]!r}, expected {what}")

    ints = lambda lo, hi: (lambda v: isinstance(v, int) and lo <= v <= hi)  # noqa: E731
    chans = lambda v: (isinstance(v, list) and len(v) == 4  # noqa: E731
                       and all(isinstance(c, int) and 1 <= c <= 512 for c in v))
    need("family", lambda v: v == FAMILY, f"'{FAMILY}'")
    need("height", lambda v: isinstance(v, int) and 16 <= v <= 1024 and v % 16 == 0,
         "a multiple of 16 in [16, 1024]")
    need("width", lambda v: isinstance(v, int) and 16 <= v <= 1024 and v % 16 == 0,
         "a multiple of 16 in [16, 1024]")
    need("action_size", ints(1, 64), "an int in [1, 64]")
    need("context_frames", ints(1, 8), "an int in [1, 8]")
    need("latent", ints(2, 4096), "an int in [2, 4096]")
    need("hidden", ints(2, 8192), "an int in [2, 8192]")
    need("enc_channels", chans, "a list of 4 ints in [1, 512]")
    need("dec_channels", chans, "a list of 4 ints in [1, 512]")
    if "value_gamma" in cfg:
        need("value_gamma", lambda v: isinstance(v, (int, float)) and 0.0 < v < 1.0,
             "a number in (0, 1)")
    if "pose_bodies" in cfg:
        need("pose_bodies", lambda v: (isinstance(v, list) and 1 <= len(v) <= 16 and
                                       all(isinstance(n, str) and n for n in v)),
             "a list of 1 to 16 body names")
    return cfg


def coord_planes(h: int, w: int, device=None) -> torch.Tensor:
    """[1, 2, H, W]: x then y, each in [-1, 1] (pixel centres at the ends)."""
    ys = torch.linspace(-1.0, 1.0, h, device=device)
    xs = torch.linspace(-1.0, 1.0, w, device=device)
    return torch.stack([xs[None, :].expand(h, w), ys[:, None].expand(h, w)])[None]


class Encoder(nn.Module):
    def __init__(self, cfg: dict):
        super().__init__()
        c = cfg["enc_channels"]
        self.convs = nn.ModuleList()
        cin = 5
        for co in c:
            self.convs.append(nn.Conv2d(cin, co, 3, stride=2, padding=1))
            cin = co
        cells = (cfg["height"] // 16) * (cfg["width"] // 16)
        self.fc1 = nn.Linear(c[-1] * cells, cfg["hidden"])
        self.fc2 = nn.Linear(cfg["hidden"], cfg["latent"])

    def forward(self, frame):  # [B, 3, H, W] in [0, 1]
        b, _, h, w = frame.shape
        x = torch.cat([frame - 0.5, coord_planes(h, w, frame.device).expand(b, -1, -1, -1)], 1)
        for conv in self.convs:
            x = F.silu(conv(x))
        z = self.fc2(F.silu(self.fc1(x.flatten(1))))
        return F.layer_norm(z, z.shape[-1:])


class Dynamics(nn.Module):
    def __init__(self, cfg: dict):
        super().__init__()
        d, hid, a = cfg["latent"], cfg["hidden"], cfg["action_size"]
        self.fc1 = nn.Linear(2 * d + a, hid)
        self.ln1 = nn.LayerNorm(hid)
        self.fc2 = nn.Linear(hid, hid)
        self.ln2 = nn.LayerNorm(hid)
        self.fc3 = nn.Linear(hid, d)

    def forward(self, z, z_prev, action):
        x = torch.cat([z, z - z_prev, action], 1)
        x = F.silu(self.ln1(self.fc1(x)))
        x = F.silu(self.ln2(self.fc2(x)))
        y = z + self.fc3(x)
        return F.layer_norm(y, y.shape[-1:])


class Heads(nn.Module):
    def __init__(self, cfg: dict):
        super().__init__()
        self.fc1 = nn.Linear(cfg["latent"], cfg["hidden"])
        self.fc2 = nn.Linear(cfg["hidden"], 2)

    def forward(self, z):  # [B, 2]: symlog reward, continue logit
        return self.fc2(F.silu(self.fc1(z)))


class Value(nn.Module):
    def __init__(self, cfg: dict):
        super().__init__()
        self.fc1 = nn.Linear(cfg["latent"], cfg["hidden"])
        self.fc2 = nn.Linear(cfg["hidden"], 1)

    def forward(self, z):  # [B]: symlog value
        return self.fc2(F.silu(self.fc1(z)))[:, 0]


class Poses(nn.Module):
    def __init__(self, cfg: dict):
        super().__init__()
        self.fc1 = nn.Linear(cfg["latent"], cfg["hidden"])
        self.fc2 = nn.Linear(cfg["hidden"], 2 * len(cfg["pose_bodies"]))

    def forward(self, z):  # [B, 2 x bodies]: x, y per body (dm)
        return self.fc2(F.silu(self.fc1(z)))


class Decoder(nn.Module):
    def __init__(self, cfg: dict):
        super().__init__()
        c0, c1, c2, c3 = cfg["dec_channels"]  # at H/8, H/4, H/2, H
        self.h8, self.w8 = cfg["height"] // 8, cfg["width"] // 8
        self.c0 = c0
        self.fe1 = nn.Conv2d(3, c2, 3, stride=2, padding=1)   # H/2
        self.fe2 = nn.Conv2d(c2, c1, 3, stride=2, padding=1)  # H/4
        self.fe3 = nn.Conv2d(c1, c0, 3, stride=2, padding=1)  # H/8
        self.zmap = nn.Linear(cfg["latent"], c0 * self.h8 * self.w8)
        self.conv0 = nn.Conv2d(2 * c0, c0, 3, padding=1)
        self.conv1 = nn.Conv2d(c0 + c1, c1, 3, padding=1)
        self.conv2 = nn.Conv2d(c1 + c2, c2, 3, padding=1)
        self.conv3 = nn.Conv2d(c2 + 3, c3, 3, padding=1)
        self.out = nn.Conv2d(c3, 3, 3, padding=1)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def forward(self, z, obs):  # z [B, D]; obs [B, 3, H, W] in [0, 1] -> [B, 3, H, W] (unclamped)
        o = obs - 0.5
        f1 = F.silu(self.fe1(o))
        f2 = F.silu(self.fe2(f1))
        f3 = F.silu(self.fe3(f2))
        x = F.silu(self.zmap(z)).view(-1, self.c0, self.h8, self.w8)
        x = F.interpolate(F.silu(self.conv0(torch.cat([x, f3], 1))), scale_factor=2, mode="nearest")
        x = F.interpolate(F.silu(self.conv1(torch.cat([x, f2], 1))), scale_factor=2, mode="nearest")
        x = F.interpolate(F.silu(self.conv2(torch.cat([x, f1], 1))), scale_factor=2, mode="nearest")
        x = F.silu(self.conv3(torch.cat([x, o], 1)))
        return obs + self.out(x)


class LatentWorldModel(nn.Module):
    def __init__(self, cfg: dict):
        super().__init__()
        self.cfg = validate_config(dict(cfg))
        self.encoder = Encoder(self.cfg)
        self.dynamics = Dynamics(self.cfg)
        self.heads = Heads(self.cfg)
        self.decoder = Decoder(self.cfg)
        if "value_gamma" in self.cfg:
            self.value = Value(self.cfg)
        if "pose_bodies" in self.cfg:
            self.poses = Poses(self.cfg)

    def encode_context(self, frames, actions):
        """frames [B, C', 3, H, W] in [0, 1] (oldest first), actions [B, C', A] (unused: the
        velocity is read from the last two frames) -> (z_t, z_{t-1}, last frame)."""
        z = self.encoder(frames[:, -1])
        z_prev = self.encoder(frames[:, -2]) if frames.shape[1] >= 2 else z
        return z, z_prev, frames[:, -1]


def load_checkpoint(path: str, device="cpu") -> LatentWorldModel:
    payload, cfg = read_payload(path, FAMILY, validate_config)
    model = LatentWorldModel(cfg)
    model.load_state_dict(payload["weights"])
    return model.to(device).eval()
