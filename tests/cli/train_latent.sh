#!/usr/bin/env bash
# worldmodel/python/train_latent.py (the `latent` family's trainer): trains on a dataset written
# by `parallax collect`, logs JSON lines with the held-out open-loop figures, resumes from its
# state file, writes a checkpoint the C++ library plans with; bad flags give one line, exit 2.
# usage: train_latent.sh PARALLAX_EXE SOURCE_DIR
source "$(dirname "${BASH_SOURCE[0]}")/lib/preamble.bash" "$@"
trainer=("$py" "$src/worldmodel/python/train_latent.py")

"$exe" collect --scene push --agent random --episodes 2 --envs 2 --seed 5 --threads 1 \
  --out "$tmp/ds" --quiet >/dev/null 2>"$tmp/collect.txt" ||
  fail "parallax collect could not make a dataset: $(cat "$tmp/collect.txt")"
tiny=(--data "$tmp/ds" --eval-data "$tmp/ds" --eval-episodes 1 --batch 2 --horizon 4
      --decode-steps 2 --latent 8 --hidden 16 --enc-channels 4,4,4,4 --dec-channels 4,4,4,4
      --threads 1 --seed 1 --checkpoint-every 2 --eval-every 4 --out "$tmp/m.pt")

# 4 steps: a checkpoint, a state file, metric lines and one held-out evaluation.
"${trainer[@]}" "${tiny[@]}" --steps 4 --log "$tmp/a.jsonl" 2>"$tmp/a.err" ||
  fail "train_latent failed: $(tail -3 "$tmp/a.err")"
[ -s "$tmp/m.pt" ] && [ -s "$tmp/m.pt.state" ] || fail "no checkpoint or state written"
"$py" - "$tmp/a.jsonl" <<'PY' || fail "log"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
steps = [l for l in lines if "latent_spread" in l]
evals = [l for l in lines if "eval" in l]
assert steps and steps[-1]["step"] == 4, lines
assert len(evals) == 1 and evals[0]["step"] == 4, evals
e = evals[0]["eval"]
assert len(e["t+1"]) == 2 and e["reward_mae"] >= 0, e  # [model dB, nothing-moves dB]
PY
ls -a "$tmp" | grep -q '\.tmp\.' && fail "temporary file left behind"

# Resume: the state's step is where it continues.
"${trainer[@]}" "${tiny[@]}" --steps 6 --resume --log "$tmp/b.jsonl" 2>"$tmp/b.err" ||
  fail "resume failed: $(tail -3 "$tmp/b.err")"
grep -q "resumed .* at step 4" "$tmp/b.err" || fail "did not resume at step 4: $(head -3 "$tmp/b.err")"
grep -q '"step": 6' "$tmp/b.jsonl" || fail "resumed run did not reach step 6"

# The C++ library loads it and plans with it in the dream.
"$exe" plan --scene push --world dream --model "$tmp/m.pt" --k 4 --horizon 4 --iterations 1 \
  --elites 2 --episodes 1 --max-steps 3 --threads 1 --quiet --json >"$tmp/p.json" 2>"$tmp/p.err" ||
  fail "plan with the latent checkpoint: $(cat "$tmp/p.err")"
grep -q '"success_rate"' "$tmp/p.json" || fail "plan report: $(cat "$tmp/p.json")"

# --init: fine-tuning starts from the checkpoint's weights and config (its config wins over
# --latent); at learning rate 0 the weights come out unchanged. --data-weights: one per folder.
"${trainer[@]}" "${tiny[@]}" --latent 12 --steps 2 --init "$tmp/m.pt" --lr 0 --lr-final 0 \
  --data "$tmp/ds,$tmp/ds" --data-weights 1,3 --out "$tmp/f.pt" 2>"$tmp/f.err" ||
  fail "--init failed: $(tail -3 "$tmp/f.err")"
"$py" - "$tmp/m.pt" "$tmp/f.pt" "$src/worldmodel/python" <<'PY' || fail "--init weights"
import sys
sys.path.insert(0, sys.argv[3])
import numpy as np, torch
import parallax_latent as pl
from train_unet import Sampler
a, b = pl.load_checkpoint(sys.argv[1]), pl.load_checkpoint(sys.argv[2])
assert a.cfg == b.cfg, (a.cfg, b.cfg)
sa, sb = a.state_dict(), b.state_dict()
assert sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)
# Sampling weights: an episode is drawn in proportion to steps x weight.
eps = [{"obs": np.zeros((11, 3, 2, 2), np.uint8), "act": np.zeros((10, 2), np.float32),
        "rew": np.zeros(10, np.float32), "term": np.zeros(10, bool)} for _ in range(2)]
s = Sampler(eps, 2, np.random.default_rng(0), [1.0, 3.0])
assert np.allclose(s.p, [0.25, 0.75]), s.p
PY

# --pose-bodies: a pose head (new to the --init checkpoint) learns the named bodies' x, y; the log
# and the held-out evaluation report it, the config names the bodies, the C++ library loads it.
"${trainer[@]}" "${tiny[@]}" --steps 2 --init "$tmp/m.pt" --pose-bodies pusher,cube \
  --eval-every 2 --out "$tmp/p.pt" --log "$tmp/p.jsonl" 2>"$tmp/p.err" ||
  fail "--pose-bodies failed: $(tail -3 "$tmp/p.err")"
"$py" - "$tmp/m.pt" "$tmp/p.pt" "$tmp/p.jsonl" "$src/worldmodel/python" <<'PY' || fail "--pose-bodies"
import json, sys
sys.path.insert(0, sys.argv[4])
import numpy as np
import parallax_latent as pl
from train_unet import Sampler
from train_latent import window_poses
a, b = pl.load_checkpoint(sys.argv[1]), pl.load_checkpoint(sys.argv[2])
assert b.cfg["pose_bodies"] == ["pusher", "cube"], b.cfg
assert b.poses.fc2.out_features == 4
lines = [json.loads(l) for l in open(sys.argv[3])]
assert any(l.get("pose_mse_dm2", 0) > 0 for l in lines), lines
ev = [l["eval"] for l in lines if "eval" in l][-1]
assert len(ev["pose_cm_t+1"]) == 2 and all(x >= 0 for x in ev["pose_cm_t+1"]), ev
# The targets: window (episode 0, last context frame s = 3), K = 3 -> poses of frames 4, 5, 6,
# bodies [2, 0], x and y in dm; past the episode's end the last pose repeats.
poses = np.arange(8 * 3 * 7, dtype=np.float32).reshape(8, 3, 7) / 100.0
eps = [{"obs": np.zeros((8, 3, 2, 2), np.uint8), "act": np.zeros((7, 2), np.float32),
        "rew": np.zeros(7, np.float32), "term": np.zeros(7, bool), "poses": poses}]
s = Sampler(eps, 2, np.random.default_rng(0))
s.last = [(0, 3), (0, 6)]
got, mask = window_poses(s, [2, 0], 3)
want0 = [[poses[t, 2, 0] * 10, poses[t, 2, 1] * 10, poses[t, 0, 0] * 10, poses[t, 0, 1] * 10]
         for t in (4, 5, 6)]
want1 = [[poses[t, 2, 0] * 10, poses[t, 2, 1] * 10, poses[t, 0, 0] * 10, poses[t, 0, 1] * 10]
         for t in (7, 7, 7)]
assert np.allclose(got[0], want0) and np.allclose(got[1], want1), got
assert (mask == 1).all(), mask  # no ids: every target counts
# With ids: body 2 out of view in frame 5, body 0 in frame 4 (visibility as load_dataset derives
# it from infos/ids, id k+1 = body k) -> those targets are masked, x and y alike.
ids = np.zeros((8, 2, 2), np.uint8)
ids[:, 0, 0], ids[:, 1, 1] = 1, 3
ids[5, 1, 1], ids[4, 0, 0] = 0, 0
eps[0]["visible"] = np.stack([(ids == j + 1).any((1, 2)) for j in range(3)], 1)
got, mask = window_poses(s, [2, 0], 3)
assert mask[0].tolist() == [[1, 1, 0, 0], [0, 0, 1, 1], [1, 1, 1, 1]], mask[0]
assert (mask[1] == 1).all(), mask[1]
PY
"$exe" plan --scene push --world dream --model "$tmp/p.pt" --k 4 --horizon 4 --iterations 1 \
  --elites 2 --episodes 1 --max-steps 3 --threads 1 --quiet --json >"$tmp/pp.json" 2>"$tmp/pp.err" ||
  fail "plan with a pose-head checkpoint: $(cat "$tmp/pp.err")"
# ... and plans with the scene's reward on its predicted positions.
"$exe" plan --scene push --world dream --model "$tmp/p.pt" --k 4 --horizon 4 --iterations 1 \
  --elites 2 --episodes 1 --max-steps 3 --threads 1 --quiet --json --reward poses \
  >"$tmp/pr.json" 2>"$tmp/pr.err" || fail "plan --reward poses: $(cat "$tmp/pr.err")"
grep -q '"reward":"poses"' "$tmp/pr.json" || fail "plan --reward poses: report $(cat "$tmp/pr.json")"

# Bad flags: exit 2, one line naming the flag or field (bad WORD ARGS...).
bad() {
  local word=$1; shift
  "${trainer[@]}" --data "$tmp/ds" --out "$tmp/x.pt" "$@" >/dev/null 2>"$tmp/err"; rc=$?
  [ $rc -eq 2 ] || fail "expected exit 2 for $*, got $rc: $(cat "$tmp/err")"
  [ "$(wc -l <"$tmp/err")" -eq 1 ] || fail "expected one line for $*: $(cat "$tmp/err")"
  grep -q -- "$word" "$tmp/err" || fail "message does not name $word: $(cat "$tmp/err")"
}
bad --horizon --horizon 0
bad --decode-steps --decode-steps 5 --horizon 4
bad dec_channels --dec-channels 4,4
bad --data-weights --data-weights 1,2
bad --data-weights --data-weights -1
bad --init --init "$tmp/no-such.pt"
bad nosuch --pose-bodies cube,nosuch
[ -e "$tmp/x.pt" ] && fail "a refused run wrote a checkpoint"
echo "train_latent ok"
