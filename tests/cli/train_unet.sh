#!/usr/bin/env bash
# worldmodel/python/train_unet.py (the `unet` family's trainer): trains on datasets written by
# `parallax collect` with per-folder sampling weights, logs JSON lines with the held-out open-loop
# figures, resumes exactly from its state file, fine-tunes from a checkpoint (--init), writes a
# checkpoint the C++ library loads; bad flags give one line, exit 2.
# usage: train_unet.sh PARALLAX_EXE SOURCE_DIR
source "$(dirname "${BASH_SOURCE[0]}")/lib/preamble.bash" "$@"
trainer=("$py" "$src/worldmodel/python/train_unet.py")

for p in random expert; do
  "$exe" collect --scene push --agent $p --episodes 2 --envs 2 --seed 7 --threads 1 \
    --out "$tmp/$p" --quiet >/dev/null 2>"$tmp/collect.txt" ||
    fail "parallax collect could not make a dataset: $(cat "$tmp/collect.txt")"
done
tiny=(--data "$tmp/random,$tmp/expert" --data-weights 1,3 --eval-data "$tmp/random"
      --eval-episodes 1 --channels 4,4,4,4 --frames-per-step 4 --rollout 1:0.5,2:1
      --reward-input frame --threads 1 --seed 1 --checkpoint-every 2 --eval-every 4)

# 4 steps: a checkpoint, a state file, metric lines and one held-out evaluation.
"${trainer[@]}" "${tiny[@]}" --steps 4 --out "$tmp/a.pt" --log "$tmp/a.jsonl" 2>"$tmp/a.err" ||
  fail "train_unet failed: $(tail -3 "$tmp/a.err")"
[ -s "$tmp/a.pt" ] && [ -s "$tmp/a.pt.state" ] || fail "no checkpoint or state written"
# Two folders of 2 episodes each, weights 1 and 3: a share of each folder's steps x weight.
"$py" - "$tmp/a.err" "$tmp/random" "$tmp/expert" <<'PY' || fail "sampling shares: $(head -1 "$tmp/a.err")"
import json, re, sys
steps = [json.load(open(f"{d}/data/metadata.json"))["total_steps"] for d in sys.argv[2:]]
want = [steps[0] * 1 / (steps[0] + 3 * steps[1]), steps[1] * 3 / (steps[0] + 3 * steps[1])]
got = [float(x) for x in re.search(r"per --data folder: ([0-9.,]+)", open(sys.argv[1]).read())[1].split(",")]
assert all(abs(g - w) < 1e-3 for g, w in zip(got, want)) and len(got) == 2, (got, want)
PY
ls -a "$tmp" | grep -q '\.tmp\.' && fail "temporary file left behind"

# Resume: 2 steps, then --resume to 4, gives the straight 4-step run's weights bit for bit (the
# optimizer, the sampler's and torch's RNG states travel in the state file). The learning rate
# and rollout length follow the fraction of --steps, so both runs use a flat schedule here.
flat=(--rollout 2:1 --lr 1e-3 --lr-final 1e-3 --eval-data "")
"${trainer[@]}" "${tiny[@]}" "${flat[@]}" --steps 4 --out "$tmp/s.pt" 2>"$tmp/s.err" ||
  fail "straight run failed: $(tail -3 "$tmp/s.err")"
"${trainer[@]}" "${tiny[@]}" "${flat[@]}" --steps 2 --out "$tmp/b.pt" 2>"$tmp/b.err" ||
  fail "2-step run failed: $(tail -3 "$tmp/b.err")"
"${trainer[@]}" "${tiny[@]}" "${flat[@]}" --steps 4 --out "$tmp/b.pt" --resume 2>"$tmp/b2.err" ||
  fail "resume failed: $(tail -3 "$tmp/b2.err")"
grep -q "resumed .* at step 2" "$tmp/b2.err" || fail "did not resume at step 2: $(head -3 "$tmp/b2.err")"

# --init at learning rate 0 keeps the weights; the sampler draws folders by steps x weight.
"${trainer[@]}" "${tiny[@]}" --steps 1 --init "$tmp/a.pt" --lr 0 --lr-final 0 --eval-data "" \
  --out "$tmp/i.pt" 2>"$tmp/i.err" || fail "--init failed: $(tail -3 "$tmp/i.err")"
"$py" - "$tmp" "$src/worldmodel/python" <<'PY' || fail "checkpoints, log or sampler"
import json, sys
sys.path.insert(0, sys.argv[2])
import numpy as np, torch
import parallax_unet as pu
from train_unet import Sampler
t = sys.argv[1]
a, s_, b, i = (pu.load_checkpoint(f"{t}/{n}.pt") for n in ("a", "s", "b", "i"))
sa, ss, sb, si = a.state_dict(), s_.state_dict(), b.state_dict(), i.state_dict()
assert not all(torch.equal(sa[k], ss[k]) for k in sa), "training changed nothing"
assert ss.keys() == sb.keys() and all(torch.equal(ss[k], sb[k]) for k in ss), "resume != straight"
assert all(torch.equal(sa[k], si[k]) for k in sa), "--init at lr 0 changed the weights"
assert a.cfg["reward_input"] == "frame" and a.cfg["channels"] == [4, 4, 4, 4], a.cfg
lines = [json.loads(l) for l in open(f"{t}/a.jsonl")]
evals = [l for l in lines if "eval" in l]
assert len(evals) == 1 and evals[0]["step"] == 4, lines
assert len(evals[0]["eval"]["t+1"]) == 2, evals  # [model dB, nothing-moves dB]
# Weights: steps x weight; two episodes of 150 steps per folder, weights 1 and 3 -> 1/8, 3/8.
eps = [{"obs": np.zeros((11, 3, 2, 2), np.uint8), "act": np.zeros((10, 2), np.float32),
        "rew": np.zeros(10, np.float32), "term": np.zeros(10, bool)} for _ in range(4)]
s = Sampler(eps, 2, np.random.default_rng(0), [1.0, 1.0, 3.0, 3.0])
assert np.allclose(s.p, [0.125, 0.125, 0.375, 0.375]), s.p
# --terminal-share 0.5: half the windows start at episode 3's terminal step (its first target is
# the success: continue 0); the rest as before (no other terminal step). 400 windows: binomial
# standard deviation 0.025 around 0.5.
eps[3]["term"][6] = True
s = Sampler(eps, 2, np.random.default_rng(1), [1.0, 1.0, 3.0, 3.0], terminal_share=0.5)
_, _, _, cont, _ = s.batch(400, 1)
share = float((cont[:, 0] == 0).mean())
assert 0.4 < share < 0.6, share
assert all(s_ == 6 for (e, s_), c in zip(s.last, cont[:, 0]) if c == 0), s.last[:5]
# --motion-weight: weight W where any channel changes by more than 0.1 between the true previous
# frame and the target, else 1. A 2x2 frame: (0,0) red +0.2 (moves), (0,1) green -0.3 (moves),
# (1,0) blue +0.05 (below the threshold), (1,1) unchanged.
from train_unet import motion_weights
prev = torch.full((1, 3, 2, 2), 0.5)
target = prev.clone()
target[0, 0, 0, 0] += 0.2
target[0, 1, 0, 1] -= 0.3
target[0, 2, 1, 0] += 0.05
w = motion_weights(prev, target, 5.0)
assert w.shape == (1, 1, 2, 2) and w.flatten().tolist() == [5.0, 5.0, 1.0, 1.0], w
PY

# --motion-weight trains (rollouts of 2: the second step's previous frame is a true one too) and
# changes the weights against the same run without it.
"${trainer[@]}" "${tiny[@]}" "${flat[@]}" --steps 4 --motion-weight 8 --out "$tmp/m.pt" \
  2>"$tmp/m.err" || fail "--motion-weight run failed: $(tail -3 "$tmp/m.err")"
"$py" - "$tmp" "$src/worldmodel/python" <<'PY' || fail "--motion-weight changed nothing"
import sys
sys.path.insert(0, sys.argv[2])
import torch
import parallax_unet as pu
m, s = (pu.load_checkpoint(f"{sys.argv[1]}/{n}.pt").state_dict() for n in ("m", "s"))
assert not all(torch.equal(m[k], s[k]) for k in m if not k.startswith("frame_head."))
PY

# --pixel-loss l1 trains (the absolute error per pixel) and changes the weights against the same run
# with the default squared error.
"${trainer[@]}" "${tiny[@]}" "${flat[@]}" --steps 4 --pixel-loss l1 --out "$tmp/l1.pt" \
  2>"$tmp/l1.err" || fail "--pixel-loss l1 run failed: $(tail -3 "$tmp/l1.err")"
"$py" - "$tmp" "$src/worldmodel/python" <<'PY' || fail "--pixel-loss l1 changed nothing"
import sys
sys.path.insert(0, sys.argv[2])
import torch
import parallax_unet as pu
m, s = (pu.load_checkpoint(f"{sys.argv[1]}/{n}.pt").state_dict() for n in ("l1", "s"))
assert not all(torch.equal(m[k], s[k]) for k in m if not k.startswith("frame_head."))
PY

# --output warp from a residual --init: the flow starts at zero, so at learning rate 0 the model
# keeps --init's weights and predicts exactly its frames; trained, the flow moves off zero; the
# C++ library plans with it.
"${trainer[@]}" "${tiny[@]}" --eval-data "" --steps 1 --init "$tmp/a.pt" --output warp --lr 0 \
  --lr-final 0 --out "$tmp/w0.pt" 2>"$tmp/w0.err" || fail "--output warp at lr 0: $(tail -3 "$tmp/w0.err")"
"${trainer[@]}" "${tiny[@]}" "${flat[@]}" --steps 4 --init "$tmp/a.pt" --output warp \
  --out "$tmp/w.pt" 2>"$tmp/w.err" || fail "--output warp run failed: $(tail -3 "$tmp/w.err")"
"$py" - "$tmp" "$src/worldmodel/python" <<'PY' || fail "--output warp checkpoints"
import sys
sys.path.insert(0, sys.argv[2])
import torch
import parallax_unet as pu
a, w0, w = (pu.load_checkpoint(f"{sys.argv[1]}/{n}.pt") for n in ("a", "w0", "w"))
assert w0.cfg["output"] == "warp" and a.cfg["output"] == "residual", (w0.cfg, a.cfg)
sa, s0 = a.state_dict(), w0.state_dict()
assert all(torch.equal(sa[k], s0[k]) for k in sa), "--init's weights changed at lr 0"
assert not s0["flow.weight"].any() and not s0["flow.bias"].any(), "the flow did not start at zero"
torch.manual_seed(0)
x, act = torch.rand(2, 2, 3, 64, 64), torch.rand(2, 2) * 2 - 1
with torch.no_grad():
    assert torch.equal(a(x, act)[0], w0(x, act)[0]), "zero flow changed the prediction"
assert w.state_dict()["flow.weight"].abs().sum() > 0, "training left the flow at zero"
PY
"$exe" plan --scene push --world dream --model "$tmp/w.pt" --k 2 --horizon 2 --iterations 1 \
  --elites 1 --episodes 1 --max-steps 2 --threads 1 --quiet --json >"$tmp/pw.json" 2>"$tmp/pw.err" ||
  fail "plan with the warp checkpoint: $(cat "$tmp/pw.err")"

# --output anchored from the warp checkpoint shares its weights: at learning rate 0 they stay, one
# step predicts exactly warp's frame, the second (carrying the anchor, flow and residual) does not;
# trained with rollouts it moves them; the C++ library plans with it.
"${trainer[@]}" "${tiny[@]}" --eval-data "" --steps 1 --init "$tmp/w.pt" --output anchored \
  --lr 0 --lr-final 0 --out "$tmp/an0.pt" 2>"$tmp/an0.err" ||
  fail "--output anchored at lr 0: $(tail -3 "$tmp/an0.err")"
"${trainer[@]}" "${tiny[@]}" "${flat[@]}" --steps 4 --init "$tmp/w.pt" --output anchored \
  --rollout 3:1 --out "$tmp/an.pt" 2>"$tmp/an.err" ||
  fail "--output anchored run failed: $(tail -3 "$tmp/an.err")"
"$py" - "$tmp" "$src/worldmodel/python" <<'PY' || fail "--output anchored checkpoints"
import sys
sys.path.insert(0, sys.argv[2])
import torch
import parallax_unet as pu
w, a0, a = (pu.load_checkpoint(f"{sys.argv[1]}/{n}.pt") for n in ("w", "an0", "an"))
assert a0.cfg["output"] == "anchored", a0.cfg
sw, s0 = w.state_dict(), a0.state_dict()
assert all(torch.equal(sw[k], s0[k]) for k in sw), "--init's weights changed at lr 0"
torch.manual_seed(0)
x, act = torch.rand(2, 2, 3, 64, 64), torch.rand(2, 2) * 2 - 1
with torch.no_grad():
    wn, an = w(x, act)[0], a0(x, act)[0]
    assert torch.equal(wn, an), "one step from observed frames differs from warp's"
    _, _, _, carry = a0.step(x, act, None)
    nx = torch.cat([x[:, 1:], an.clamp(0, 1)[:, None]], dim=1)
    assert not torch.equal(w(nx, act)[0], a0.step(nx, act, carry)[0]), "the carry changed nothing"
sa = a.state_dict()
assert not all(torch.equal(sw[k], sa[k]) for k in sw if not k.startswith("frame_head.")), \
    "training changed nothing"
PY
"$exe" plan --scene push --world dream --model "$tmp/an.pt" --k 2 --horizon 3 --iterations 1 \
  --elites 1 --episodes 1 --max-steps 2 --threads 1 --quiet --json >"$tmp/pa.json" 2>"$tmp/pa.err" ||
  fail "plan with the anchored checkpoint: $(cat "$tmp/pa.err")"

# --flow-weight: the flow targets from the id masks, in closed form on a synthetic episode: body 0
# (id 1) a 2x2 square moving +2 px in x per step, body 1 (id 2) still, body 2 never in view, a
# marker (id 4) fixed. One-step targets (warp) are (-2, 0) on the square, accumulated ones
# (anchored) -2 (i + 1); only the square's pixels are supervised (not the still body, whose
# position jitters by 0.01 px a step, the marker or the background).
"$py" - "$src/worldmodel/python" <<'PY' || fail "flow targets"
import sys
sys.path.insert(0, sys.argv[1])
import numpy as np
from train_unet import flow_targets, mask_centroids
ids = np.zeros((4, 8, 8), np.uint8)
for t in range(4):
    ids[t, 1:3, t * 2:t * 2 + 2] = 1
    ids[t, 6, 6] = 2
    ids[t, 0, 7] = 4
cent = mask_centroids(ids, 3)
assert np.allclose(cent[:, 0], [[0.5 + 2 * t, 1.5] for t in range(4)]), cent[:, 0]
assert np.allclose(cent[:, 1], [6, 6]) and np.isnan(cent[:, 2]).all(), cent
cent[:, 1, 0] += 0.01 * np.arange(4)  # body 1's recorded pose jitters: still at rest
ep = {"ids": ids, "cent": cent, "act": np.zeros((3, 2), np.float32)}
for cumulative in (False, True):
    tgt, msk = flow_targets([ep], [(0, 0)], 3, cumulative)
    for i in range(3):
        t = i + 1
        body = ids[t] == 1
        want = -2.0 * (t if cumulative else 1)
        assert (tgt[0, i, 0][body] == want).all() and (tgt[0, i, 1][body] == 0).all(), (i, tgt[0, i])
        assert (tgt[0, i][:, ~body & (ids[t] != 2)] == 0).all()  # background and marker
        assert (msk[0, i, 0] == body).all(), (cumulative, i, msk[0, i, 0])
    tgt, msk = flow_targets([ep], [(0, 2)], 2, cumulative)  # the second step is past the end
    assert msk[0, 1].sum() == 0 and msk[0, 0].sum() > 0
PY
# The flow targets' positions: a homography (a perspective camera over the table) fitted to mask
# centroids quantised to 0.1 px recovers the true one to 0.02 px; attach_pose_centroids() then
# gives the projected positions where the body is in view; a body that never moves has none.
"$py" - "$src/worldmodel/python" <<'PY' || fail "homography fit"
import sys
sys.path.insert(0, sys.argv[1])
import numpy as np
from train_unet import attach_pose_centroids, fit_projections, project
h_true = np.array([[60.0, 2.0, 32.0], [1.0, -55.0, 31.0], [0.05, 0.3, 1.0]])
rng = np.random.default_rng(0)
eps = []
for _ in range(4):
    poses = np.zeros((50, 2, 7), np.float32)
    poses[:, 0, :2] = rng.uniform(-0.4, 0.4, (50, 2))
    ids = np.zeros((50, 8, 8), np.uint8)
    ids[:, 0, 0], ids[:, 1, 1] = 1, 2
    ids[7, 0, 0] = 0  # body 0 out of view at t = 7
    cent = np.full((50, 2, 2), 3.0, np.float32)
    cent[:, 0] = np.round(project(h_true, poses[:, 0, :2].astype(np.float64)) * 10) / 10
    cent[7, 0] = np.nan
    eps.append({"poses": poses, "ids": ids, "cent": cent})
hs, rms = fit_projections(eps)
assert hs[1] is None and rms[1] is None, "a body at rest got a homography"
grid = np.stack(np.meshgrid(np.linspace(-0.4, 0.4, 9), np.linspace(-0.4, 0.4, 9)), -1).reshape(-1, 2)
err = np.abs(project(hs[0], grid) - project(h_true, grid)).max()
assert err < 0.02 and rms[0] < 0.06, (err, rms)
attach_pose_centroids(eps, hs)
e = eps[0]
assert np.isnan(e["cent"][7, 0]).all() and (e["cent"][:, 1] == 3.0).all()
assert np.abs(e["cent"][:7, 0] - project(h_true, e["poses"][:7, 0, :2].astype(np.float64))).max() < 0.02
PY
# Trained with --flow-weight (anchored and warp, from w.pt, the same seed and batches; each
# --flow-loss once), the flow conv moves differently from the run without it, and the log reports
# the flow loss.
for ol in anchored:l1 warp:mse anchored:speed; do
  o=${ol%:*}
  for fw in 0 1; do
    "${trainer[@]}" "${tiny[@]}" "${flat[@]}" --steps 2 --init "$tmp/w.pt" --output $o --flow-weight $fw \
      --flow-loss "${ol#*:}" --out "$tmp/f$o$fw.pt" --log "$tmp/f$o$fw.jsonl" 2>"$tmp/f.err" ||
      fail "--output $o --flow-weight $fw --flow-loss ${ol#*:} failed: $(tail -3 "$tmp/f.err")"
  done
  grep -q '"flow_loss": [0-9.e-]*' "$tmp/f${o}1.jsonl" || fail "no flow_loss logged: $(cat "$tmp/f${o}1.jsonl")"
  "$py" - "$tmp" "$src/worldmodel/python" $o <<'PY' || fail "--flow-weight changed nothing ($o)"
import sys
sys.path.insert(0, sys.argv[2])
import torch
import parallax_unet as pu
a, b = (pu.load_checkpoint(f"{sys.argv[1]}/f{sys.argv[3]}{n}.pt").state_dict() for n in (0, 1))
assert not torch.equal(a["flow.weight"], b["flow.weight"])
PY
done

# --centroid-weight (centroid_loss.py): the bodies read by colour in the predicted frame against
# the true frame. Closed-form cases on a synthetic 32x32 frame (a white disc of radius 3 on a
# green table): the same frame scores 0; the disc moved by 2 px along x scores 2 (a translated
# image's weighted centroid moves by the translation; the mass is the same); the disc faded
# half-way to the table keeps its centroid and loses its mass (each pixel weighs
# e = exp(-0.25 |white - table|^2 / 2 sigma^2) instead of 1: relative mass loss
# n (1 - e) / (n + 1) for its n pixels); a window past the episode's end (no ids) counts no
# body. Then a training run with it logs the loss and changes the weights.
"$py" - "$src/worldmodel/python" <<'PY' || fail "centroid_loss closed-form cases"
import sys
sys.path.insert(0, sys.argv[1])
import torch
from centroid_loss import centroid_loss
h = w = 32
ys, xs = torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")
disc = ((xs - 10) ** 2 + (ys - 12) ** 2) <= 9
table = torch.tensor([0.2, 0.5, 0.3])[:, None, None].expand(3, h, w)
def frame(mask, colour=(0.95, 0.95, 0.92)):
    c = torch.tensor(colour)[:, None, None]
    return torch.where(mask[None], c, table).clone()
t = frame(disc)[None]
ids = disc.to(torch.uint8)[None]
n = float(disc.sum())
loss, count = centroid_loss(t, t, ids, 1, torch)
assert count.tolist() == [1.0] and abs(float(loss)) < 1e-6, (loss, count)
shifted = frame(torch.roll(disc, 2, dims=1))[None].requires_grad_(True)
loss, _ = centroid_loss(shifted, t, ids, 1, torch)
assert abs(float(loss.detach()) - 2.0) < 1e-3, float(loss.detach())
loss.sum().backward()
assert torch.isfinite(shifted.grad).all() and shifted.grad.abs().sum() > 0
faded = t.clone()
faded[0][:, disc] = 0.5 * t[0][:, disc] + 0.5 * table[:, disc]
loss, _ = centroid_loss(faded, t, ids, 1, torch)
e = float(torch.exp(-0.25 * ((torch.tensor([0.95, 0.95, 0.92]) - table[:, 0, 0]) ** 2).sum() / (2 * 0.15 ** 2)))
assert abs(float(loss) - n * (1 - e) / (n + 1)) < 1e-3, (float(loss), n * (1 - e) / (n + 1))
loss, count = centroid_loss(t, t, torch.zeros_like(ids), 1, torch)
assert count.tolist() == [0.0] and float(loss) == 0.0
PY
"${trainer[@]}" "${tiny[@]}" --eval-data "" --steps 2 --init "$tmp/a.pt" --centroid-weight 0 \
  --lr 1e-3 --lr-final 1e-3 --out "$tmp/c0.pt" --log "$tmp/c0.jsonl" 2>"$tmp/c.err" ||
  fail "--centroid-weight 0 run failed: $(tail -3 "$tmp/c.err")"
"${trainer[@]}" "${tiny[@]}" --eval-data "" --steps 2 --init "$tmp/a.pt" --centroid-weight 10 \
  --lr 1e-3 --lr-final 1e-3 --out "$tmp/c1.pt" --log "$tmp/c1.jsonl" 2>"$tmp/c.err" ||
  fail "--centroid-weight run failed: $(tail -3 "$tmp/c.err")"
grep -q '"centroid_loss": [0-9.e-]*' "$tmp/c1.jsonl" || fail "no centroid_loss logged: $(cat "$tmp/c1.jsonl")"
"$py" - "$tmp" "$src/worldmodel/python" <<'PY' || fail "--centroid-weight changed nothing"
import sys
sys.path.insert(0, sys.argv[2])
import torch
import parallax_unet as pu
a, b = (pu.load_checkpoint(f"{sys.argv[1]}/c{n}.pt").state_dict() for n in (0, 1))
assert not all(torch.equal(a[k], b[k]) for k in a if not k.startswith("frame_head."))
PY

# The C++ library loads the checkpoint and predicts with it.
"$exe" plan --scene push --world dream --model "$tmp/a.pt" --k 2 --horizon 2 --iterations 1 \
  --elites 1 --episodes 1 --max-steps 2 --threads 1 --quiet --json >"$tmp/p.json" 2>"$tmp/p.err" ||
  fail "plan with the unet checkpoint: $(cat "$tmp/p.err")"
grep -q '"success_rate"' "$tmp/p.json" || fail "plan report: $(cat "$tmp/p.json")"

# The keypoint head (--reward-input keypoints): a heads-only stage on true frames from a.pt keeps
# the U-Net's weights bit for bit, trains fresh keypoint heads, and the C++ library plans with it.
"${trainer[@]}" "${tiny[@]}" --eval-data "" --steps 2 --init "$tmp/a.pt" --reward-input keypoints \
  --keypoints 4 --heads-only --true-frames-only --out "$tmp/k.pt" 2>"$tmp/k.err" ||
  fail "keypoint head stage failed: $(tail -3 "$tmp/k.err")"
"$py" - "$tmp" "$src/worldmodel/python" <<'PY' || fail "keypoint head checkpoint"
import sys
sys.path.insert(0, sys.argv[2])
import torch
import parallax_unet as pu
a, k = (pu.load_checkpoint(f"{sys.argv[1]}/{n}.pt").state_dict() for n in ("a", "k"))
trunk = [n for n in a if not n.startswith("frame_head.")]
assert trunk and all(torch.equal(a[n], k[n]) for n in trunk), "the frozen U-Net changed"
assert k["frame_head.conv3.weight"].shape[0] == 4, k["frame_head.conv3.weight"].shape
assert "frame_head.fc3.weight" in k and "frame_head.convs.0.weight" not in k, sorted(k)
PY
"$exe" plan --scene push --world dream --model "$tmp/k.pt" --k 2 --horizon 2 --iterations 1 \
  --elites 1 --episodes 1 --max-steps 2 --threads 1 --quiet --json >"$tmp/pk.json" 2>"$tmp/pk.err" ||
  fail "plan with the keypoint-head checkpoint: $(cat "$tmp/pk.err")"

# bench/cue_motion_diag.py (the billiards card's diagnosis) runs on a checkpoint and a dataset of
# another scene and body, and refuses a body the scene lacks in one line.
"$py" "$src/bench/cue_motion_diag.py" "$tmp/a.pt" "$tmp/random" --scene "$src/assets/scenes/push.json" \
  --body pusher >"$tmp/diag.txt" 2>&1 || fail "cue_motion_diag failed: $(tail -3 "$tmp/diag.txt")"
grep -q "windows; pusher error at t+1 \[px\]: model [0-9.]* (not found in [0-9]*), persistence" "$tmp/diag.txt" ||
  fail "cue_motion_diag output: $(cat "$tmp/diag.txt")"
"$py" "$src/bench/cue_motion_diag.py" "$tmp/w.pt" "$tmp/random" --scene "$src/assets/scenes/push.json" \
  --body pusher --open-loop >"$tmp/diag.txt" 2>&1 || fail "cue_motion_diag --open-loop failed: $(tail -3 "$tmp/diag.txt")"
grep -q "^  t+30: pusher error [0-9.]* px (not found in [0-9]*), slope [-0-9.na]*, mask [0-9.]* px (true [0-9.]*)" "$tmp/diag.txt" ||
  fail "cue_motion_diag --open-loop output: $(cat "$tmp/diag.txt")"
"$py" "$src/bench/cue_motion_diag.py" "$tmp/w.pt" "$tmp/random,$tmp/expert" --scene "$src/assets/scenes/push.json" \
  --body pusher --flow >"$tmp/diag.txt" 2>&1 || fail "cue_motion_diag --flow failed: $(tail -3 "$tmp/diag.txt")"
grep -q "^homography fit RMS [0-9.]* px; [0-9]* windows with 'pusher' moving >= 0.5 px: flow / true motion, median [-0-9.]*$" \
  "$tmp/diag.txt" || fail "cue_motion_diag --flow output: $(cat "$tmp/diag.txt")"
"$py" "$src/bench/cue_motion_diag.py" "$tmp/a.pt" "$tmp/random" --scene "$src/assets/scenes/push.json" \
  --body pusher --flow >"$tmp/diag.txt" 2>&1 && fail "cue_motion_diag --flow took a residual checkpoint"
grep -q "'output' is 'residual': --flow needs warp or anchored" "$tmp/diag.txt" ||
  fail "cue_motion_diag --flow message: $(cat "$tmp/diag.txt")"
"$py" "$src/bench/cue_motion_diag.py" "$tmp/a.pt" "$tmp/random" --scene "$src/assets/scenes/push.json" \
  --body cue >"$tmp/diag.txt" 2>&1 &&
  fail "cue_motion_diag took body 'cue' on push"
grep -q "'cue' is not a body" "$tmp/diag.txt" || fail "cue_motion_diag message: $(cat "$tmp/diag.txt")"

# --time-schedule: a run cut by --max-seconds still ends its learning-rate schedule (the GPU
# recipe's budget, bench/device-train.sh): it stops by time long before --steps, at a learning
# rate near --lr-final (the cosine's last value before the time ran out), with its checkpoint.
"${trainer[@]}" "${tiny[@]}" --eval-data "" --steps 1000000 --lr 1e-2 --lr-final 1e-4 --time-schedule \
  --max-seconds 4 --out "$tmp/t.pt" 2>"$tmp/t.err" || fail "--time-schedule run failed: $(tail -3 "$tmp/t.err")"
line=$(grep -- "--time-schedule: the schedule ended" "$tmp/t.err") || fail "no schedule end: $(tail -3 "$tmp/t.err")"
[[ $line =~ at\ step\ ([0-9]+)\ \(last\ learning\ rate\ ([0-9.e+-]+)\) ]] || fail "unreadable: $line"
"$py" -c "import sys; s, lr = int(sys.argv[1]), float(sys.argv[2]); assert 1 < s < 1000000 and lr < 1e-3, (s, lr)" \
  "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}" || fail "schedule not annealed by time: $line"
[ -s "$tmp/t.pt" ] || fail "--time-schedule wrote no checkpoint"

# Bad flags: exit 2, one line naming the flag (bad WORD ARGS...); nothing written.
bad() {
  local word=$1; shift
  "${trainer[@]}" --data "$tmp/random,$tmp/expert" --out "$tmp/x.pt" "$@" >/dev/null 2>"$tmp/err"
  rc=$?
  [ $rc -eq 2 ] || fail "expected exit 2 for $*, got $rc: $(cat "$tmp/err")"
  [ "$(wc -l <"$tmp/err")" -eq 1 ] || fail "expected one line for $*: $(cat "$tmp/err")"
  grep -q -- "$word" "$tmp/err" || fail "message does not name $word: $(cat "$tmp/err")"
}
bad --data-weights --data-weights 1
bad --data-weights --data-weights 1,0
bad --data-weights --data-weights 1,x
bad --rollout --rollout 4:0.5
bad --steps --steps 0
bad --time-schedule --time-schedule
bad --keypoints --reward-input keypoints --keypoints 0
bad --terminal-share --terminal-share 1
bad --motion-weight --motion-weight 0.5
bad --flow-weight --flow-weight -1
bad "--flow-weight needs --output warp" --flow-weight 1 --output residual
bad --centroid-weight --centroid-weight -1
bad "--centroid-weight trains the frame predictor" --centroid-weight 1 --init "$tmp/a.pt" --heads-only
bad "'output' is 'warp'" --init "$tmp/w.pt" --output residual
bad "'output' is 'anchored'" --init "$tmp/an.pt" --output residual
[ -e "$tmp/x.pt" ] && fail "a refused run wrote a checkpoint"

# A collection killed in the middle of a commit leaves a live undo journal (docs/store.md): h5py
# may see a torn file, so the trainer refuses in one line; a stale journal (a lower commit count
# than metadata.json's 2 episodes: that commit landed) is ignored.
cp -r "$tmp/random" "$tmp/torn"
printf 'PXUNDO01\x02\0\0\0\0\0\0\0' >"$tmp/torn/data/main_data.hdf5.undo"
few=(--data "$tmp/torn" --eval-data "" --channels 4,4,4,4 --frames-per-step 4 --threads 1)
"${trainer[@]}" "${few[@]}" --steps 1 --out "$tmp/x.pt" >/dev/null 2>"$tmp/err" &&
  fail "a dataset with a live undo journal was read"
[ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q "main_data.hdf5.undo: a collection was killed" "$tmp/err" ||
  fail "live journal: expected one line naming it: $(cat "$tmp/err")"
printf 'PXUNDO01\x01\0\0\0\0\0\0\0' >"$tmp/torn/data/main_data.hdf5.undo"
"${trainer[@]}" "${few[@]}" --steps 1 --out "$tmp/x.pt" >/dev/null 2>"$tmp/err" ||
  fail "a stale undo journal stopped training: $(tail -2 "$tmp/err")"
echo "train_unet ok"
