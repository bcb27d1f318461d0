"""Independent reference for the C++ `unet` family (worldmodel/src/unet.cpp): PyTorch computes
the forward pass of worldmodel/python/parallax_unet.py from random weights and inputs.

    unet_reference.py OUT_DIR    writes OUT_DIR/model.pt (a checkpoint with random, non-zero
                                 weights, also in the output conv and FiLM), OUT_DIR/io.pt
                                 (inputs and PyTorch's outputs, also under bf16 autocast), the same for reward_input "frame" in
                                 OUT_DIR/frame_head/ and "keypoints" in OUT_DIR/keypoint_head/,
                                 output "warp" in OUT_DIR/warp/, "anchored" (two steps
                                 carrying the anchor, flow and residual) in OUT_DIR/anchored/,
                                 and OUT_DIR/variants/*.pt
                                 (checkpoints the loader must refuse)
"""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "worldmodel", "python"))
import parallax_unet as pu  # noqa: E402

out = sys.argv[1]
os.makedirs(os.path.join(out, "variants"), exist_ok=True)


def reference(folder: str, reward_input: str, output: str = "residual"):
    """A random-weight model with the heads reading `reward_input`, drawing the next frame as
    `output`, and its outputs."""
    os.makedirs(folder, exist_ok=True)
    torch.manual_seed(1234)
    cfg = pu.default_config(32, 32, 2)
    cfg["context_frames"] = 3
    cfg["channels"] = [8, 16, 32]
    cfg["groups"] = 4
    cfg["scene"] = "push"
    cfg["reward_input"] = reward_input
    cfg["output"] = output
    model = pu.UNetWorldModel(cfg)
    with torch.no_grad():
        for p in model.parameters():  # every weight non-zero, also the zero-initialised ones
            p.copy_(torch.randn_like(p) * 0.2)
    model.eval()
    pu.save_checkpoint(os.path.join(folder, "model.pt"), model)
    frames = torch.rand(4, 3, 3, 32, 32)
    action = torch.rand(4, 2) * 2 - 1
    with torch.no_grad():
        nxt, rew, cont, carry = model.step(frames, action, None)
        # two open-loop steps as DreamBatch does them: clamp, slide the window ("anchored" also
        # carries its anchor, accumulated flow and residual)
        w = torch.cat([frames[:, 1:], nxt.clamp(0, 1)[:, None]], dim=1)
        nxt2, rew2, cont2, _ = model.step(w, -action, carry)
        # bf16 inference (DreamBatch::set_precision): 8-bit frames, one step in f32 and under
        # torch.autocast("cpu", torch.bfloat16) with the convolution weights channels-last.
        frames_u8 = (torch.rand(4, 3, 3, 32, 32) * 255).round().to(torch.uint8)
        x = frames_u8.float() / 255
        next_u8_f32 = model(x, action)[0]
        low = pu.UNetWorldModel(cfg)
        low.load_state_dict(model.state_dict())
        low.eval()
        for p in low.parameters():
            if p.dim() == 4:
                p.data = p.data.contiguous(memory_format=torch.channels_last)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            next_u8_bf16 = low(x, action)[0].float()
    torch.save({"frames": frames, "action": action, "next": nxt, "reward": rew, "cont": cont,
                "next2": nxt2.clamp(0, 1), "reward2": pu.symexp(rew2),
                "cont2": torch.sigmoid(cont2), "frames_u8": frames_u8,
                "next_u8_f32": next_u8_f32.clamp(0, 1), "next_u8_bf16": next_u8_bf16.clamp(0, 1)},
               os.path.join(folder, "io.pt"))
    return model, cfg


reference(os.path.join(out, "frame_head"), "frame")  # the heads read the predicted frame
kp_model, kp_cfg = reference(os.path.join(out, "keypoint_head"), "keypoints")  # ... its keypoints
reference(os.path.join(out, "warp"), "frame", "warp")  # the last frame warped by a flow
reference(os.path.join(out, "anchored"), "frame", "anchored")  # ... the observed one, accumulated
model, cfg = reference(out, "bottleneck")

# Checkpoints the loader must refuse, each for one reason.
sd = {k: v.clone() for k, v in model.state_dict().items()}
def save(name, payload):
    torch.save(payload, os.path.join(out, "variants", name + ".pt"))
base = {"parallax_format": pu.FORMAT, "family": "unet", "config": json.dumps(cfg), "weights": sd}
save("unknown_family", dict(base, family="diffusion"))
save("bad_format", dict(base, parallax_format="something-else/9"))
missing = dict(sd); missing.pop("mid.weight")
save("missing_weight", dict(base, weights=missing))
shape = dict(sd); shape["mid.weight"] = torch.zeros(3, 3)
save("bad_shape", dict(base, weights=shape))
nan = dict(sd); nan["head1.bias"] = torch.full_like(sd["head1.bias"], float("nan"))
save("nan_weight", dict(base, weights=nan))
bad_cfg = dict(cfg); bad_cfg["channels"] = [8]
save("bad_config", dict(base, config=json.dumps(bad_cfg)))
save("not_a_dict", [1, 2, 3])
no_k = {k: v for k, v in kp_cfg.items() if k != "keypoints"}
kp_sd = {k: v.clone() for k, v in kp_model.state_dict().items()}
save("keypoints_missing", dict(base, config=json.dumps(no_k), weights=kp_sd))
save("bad_output", dict(base, config=json.dumps(dict(cfg, output="optical"))))
save("warp_without_flow", dict(base, config=json.dumps(dict(cfg, output="warp"))))
print("ok")
