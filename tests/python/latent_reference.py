"""Independent reference for the C++ `latent` family (worldmodel/src/latent.cpp): PyTorch computes
the forward passes of worldmodel/python/parallax_latent.py from random weights and inputs.

    latent_reference.py OUT_DIR   writes OUT_DIR/model.pt (a checkpoint with random, non-zero
                                  weights, also in the zero-initialised output conv),
                                  OUT_DIR/io.pt (inputs and PyTorch's outputs: encode the
                                  context, two latent steps, heads, decode, observe) and
                                  OUT_DIR/variants/*.pt (checkpoints the loader must refuse),
                                  OUT_DIR/model_value.pt (the same with a value head, config
                                  value_gamma 0.95, and a pose head for bodies pusher, cube)
                                  and its value and poses of z2 in io.pt
"""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "worldmodel", "python"))
import parallax_latent as pl  # noqa: E402

out = sys.argv[1]
os.makedirs(os.path.join(out, "variants"), exist_ok=True)
torch.manual_seed(4321)
cfg = pl.default_config(32, 48, 2)  # not square: catches a swapped height and width
cfg.update(latent=12, hidden=24, enc_channels=[4, 6, 8, 8], dec_channels=[6, 5, 4, 3], scene="push")
model = pl.LatentWorldModel(cfg)
with torch.no_grad():
    for p in model.parameters():
        p.copy_(torch.randn_like(p) * 0.3)
model.eval()
pl.save_checkpoint(os.path.join(out, "model.pt"), model)

frames_u8 = (torch.rand(4, 2, 3, 32, 48) * 255).round().to(torch.uint8)  # what the world renders
frames = frames_u8.float() / 255
action = torch.rand(4, 2) * 2 - 1
truth_u8 = (torch.rand(4, 3, 32, 48) * 255).round().to(torch.uint8)
with torch.no_grad():
    z, z_prev, last = model.encode_context(frames, torch.zeros(4, 2, 2))
    z1 = model.dynamics(z, z_prev, action)
    z2 = model.dynamics(z1, z, -action)
    h2 = model.heads(z2)
    img2 = model.decoder(z2, last)
    # observe: the true frame's encoding replaces z_t, z_{t-1} stays; decode over the new frame
    zo = model.encoder(truth_u8.float() / 255)
    img_o = model.decoder(zo, truth_u8.float() / 255)
# The same model with a value head (random weights too): its symexp(value(z2)).
vcfg = dict(cfg, value_gamma=0.95, pose_bodies=["pusher", "cube"])
vmodel = pl.LatentWorldModel(vcfg)
vmodel.load_state_dict(model.state_dict(), strict=False)
with torch.no_grad():
    for p in list(vmodel.value.parameters()) + list(vmodel.poses.parameters()):
        p.copy_(torch.randn_like(p) * 0.3)
    value2 = pl.symexp(vmodel.value(z2))
    poses2 = vmodel.poses(z2)
vmodel.eval()
pl.save_checkpoint(os.path.join(out, "model_value.pt"), vmodel)
torch.save({"frames": frames_u8, "action": action, "z": z, "z_prev": z_prev, "z1": z1, "z2": z2,
            "reward2": pl.symexp(h2[:, 0]), "cont2": torch.sigmoid(h2[:, 1]), "decode2": img2,
            "truth": truth_u8, "z_observed": zo, "decode_observed": img_o, "value2": value2,
            "poses2": poses2},
           os.path.join(out, "io.pt"))

sd = {k: v.clone() for k, v in model.state_dict().items()}


def save(name, payload):
    torch.save(payload, os.path.join(out, "variants", name + ".pt"))


base = {"parallax_format": pl.FORMAT, "family": "latent", "config": json.dumps(cfg), "weights": sd}
missing = dict(sd)
missing.pop("dynamics.fc3.weight")
save("missing_weight", dict(base, weights=missing))
bad_cfg = dict(cfg, dec_channels=[6, 5, 4])
save("bad_config", dict(base, config=json.dumps(bad_cfg)))
odd = dict(cfg, height=40)
save("bad_height", dict(base, config=json.dumps(odd)))
vsd = {k: v.clone() for k, v in vmodel.state_dict().items()}
vbase = dict(base, config=json.dumps(vcfg), weights=vsd)
save("bad_value_gamma", dict(vbase, config=json.dumps(dict(vcfg, value_gamma=1.5))))
no_value = dict(vsd)
no_value.pop("value.fc2.weight")
save("missing_value_weight", dict(vbase, weights=no_value))
save("bad_pose_bodies", dict(vbase, config=json.dumps(dict(vcfg, pose_bodies=["cube", ""]))))
print("ok")
