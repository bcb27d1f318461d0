#!/usr/bin/env bash
# The pose-space planner model: worldmodel/python/train_pose_dynamics.py trains from collected
# episodes (its held-out "nothing moves" figures equal the cube's displacement recomputed from the
# dataset's poses), resumes, refuses bad flags in one line; `parallax plan --model` plans with
# the checkpoint (report fields, strips, deterministic for a seed) and refuses what does not
# apply to it; the world-model commands refuse it by name.
# usage: pose_model.sh PARALLAX_EXE SOURCE_DIR
source "$(dirname "${BASH_SOURCE[0]}")/lib/preamble.bash" "$@"
train=("$py" "$src/worldmodel/python/train_pose_dynamics.py")
for agent in expert rush; do
  "$exe" collect --scene push --agent $agent --episodes 3 --envs 3 --seed 11 --threads 1 \
    --out "$tmp/$agent" --quiet >/dev/null 2>"$tmp/collect.txt" ||
    fail "parallax collect $agent: $(cat "$tmp/collect.txt")"
done

# 1. A short training with a held-out evaluation, then a resume.
"${train[@]}" --data "$tmp/expert,$tmp/rush" --eval-data "$tmp/rush" --eval-episodes 3 \
  --hidden 16 --steps 20 --batch 32 --rollout 1:0.5,3:1 --eval-every 20 --checkpoint-every 10 \
  --out "$tmp/m.pt" --log "$tmp/m.jsonl" >/dev/null 2>"$tmp/t.err" ||
  fail "train_pose_dynamics failed: $(tail -3 "$tmp/t.err")"
[ -s "$tmp/m.pt" ] && [ -s "$tmp/m.pt.state" ] || fail "no checkpoint or state written"
"${train[@]}" --data "$tmp/expert,$tmp/rush" --hidden 16 --steps 30 --batch 32 \
  --rollout 1:0.5,3:1 --out "$tmp/m.pt" --log "$tmp/m.jsonl" --resume >/dev/null 2>"$tmp/r.err" ||
  fail "resume failed: $(tail -3 "$tmp/r.err")"
"$py" - "$tmp" <<'PY' || fail "checkpoint or log"
import json, math, sys
import h5py, numpy as np, torch
t = sys.argv[1]
ck = torch.load(f"{t}/m.pt", weights_only=False)
assert ck["parallax_format"] == "parallax-model/2" and ck["family"] == "pose-dynamics", ck.keys()
cfg = json.loads(ck["config"])
assert cfg["scene"] == "push" and cfg["driver"] == "pusher" and cfg["pushed"] == "cube", cfg
assert abs(cfg["step_m"] - 0.5 / 30) < 1e-12 and cfg["hidden"] == 16, cfg
lines = [json.loads(l) for l in open(f"{t}/m.jsonl")]
steps = [l["step"] for l in lines if "loss" in l]
ev = [l for l in lines if "eval" in l]
assert len(ev) == 1 and ev[0]["step"] == 20, lines
# "Nothing moves" recomputed from the poses: the mean cube displacement over all windows of 15
# ticks (the held-out set is small: every window is used).
f = h5py.File(f"{t}/rush/data/main_data.hdf5", "r")
for h in (1, 5, 15):
    d = []
    for k in f.keys():
        c = f[k]["infos/poses"][:, 2, :2].astype(np.float64)
        n = c.shape[0] - 1 - 15
        d += [np.linalg.norm(c[s + h] - c[s]) * 100 for s in range(n + 1)]
    got = ev[0]["eval"][f"t+{h}"]["still_cm"]
    assert abs(got - np.mean(d)) < 1e-3 * max(1, np.mean(d)), (h, got, np.mean(d))
    assert ev[0]["eval"][f"t+{h}"]["model_cm"] >= 0
PY

# 2. Bad flags: one line, exit 2; a folder that is not a dataset: one line, exit 1.
bad_train() {  # bad_train RC WORD ARGS...
  local want=$1 word=$2; shift 2
  "${train[@]}" "$@" >/dev/null 2>"$tmp/err"; local rc=$?
  [[ $rc == "$want" ]] || fail "train $*: exit $rc, expected $want: $(cat "$tmp/err")"
  [[ $(wc -l <"$tmp/err") == 1 ]] || fail "train $*: not one line: $(cat "$tmp/err")"
  grep -q -- "$word" "$tmp/err" || fail "train $*: does not name $word: $(cat "$tmp/err")"
}
bad_train 2 "--hidden" --data "$tmp/expert" --hidden 2 --out "$tmp/x.pt"
bad_train 2 "--rollout" --data "$tmp/expert" --rollout 3 --out "$tmp/x.pt"
bad_train 2 "--data-weights" --data "$tmp/expert" --data-weights 1,2 --out "$tmp/x.pt"
bad_train 1 "$tmp/nothing" --data "$tmp/nothing" --out "$tmp/x.pt"
mkdir -p "$tmp/junk/data" && cp "$tmp/expert/data/metadata.json" "$tmp/junk/data/" &&
  echo "not hdf5" >"$tmp/junk/data/main_data.hdf5"
bad_train 1 "main_data.hdf5" --data "$tmp/junk" --out "$tmp/x.pt"
[ ! -e "$tmp/x.pt" ] || fail "a refused run wrote a checkpoint"

# 3. Planning with it: the report, strips, the same episodes for the same seed.
plan=(plan --scene push --world dream --model "$tmp/m.pt" --reward poses --reach 1.0
      --reach-behind 0.08 --k 16 --horizon 6 --iterations 2 --elites 4 --replan-every 3
      --episodes 2 --max-steps 12 --seed 5 --threads 1 --quiet --json)
"$exe" "${plan[@]}" --out "$tmp/p" >"$tmp/p.json" 2>"$tmp/p.err" || fail "plan: $(cat "$tmp/p.err")"
"$exe" "${plan[@]}" >"$tmp/p2.json" 2>"$tmp/p2.err" || fail "plan again: $(cat "$tmp/p2.err")"
[ -s "$tmp/p/episode_000.png" ] && [ -s "$tmp/p/plan.json" ] || fail "no strip or report"
"$py" - "$tmp" <<'PY' || fail "plan report"
import json, sys
t = sys.argv[1]
a, b = json.load(open(f"{t}/p.json")), json.load(open(f"{t}/p2.json"))
assert a["world"] == "dream" and a["episodes"] == 2 and a["decisions"] == 8, a
assert a["poses_from"].startswith("pose-space model"), a["poses_from"]
assert "pose-dynamics" in a["model"], a["model"]
assert [e["return"] for e in a["per_episode"]] == [e["return"] for e in b["per_episode"]]
PY

# 3b. The scale curves with it: the same checks as scale.sh (pass@K never decreases and bounds
# both best-of-K curves), the model named.
"$exe" scale --scene push --model "$tmp/m.pt" --k 1,2,4 --decisions 2 --horizon 6 --lead 3 \
  --batch 4 --threads 1 --quiet --json --out "$tmp/s" >"$tmp/s.json" 2>"$tmp/s.err" ||
  fail "scale: $(cat "$tmp/s.err")"
"$py" - "$tmp/s.json" <<'PY' || fail "scale report"
import json, sys
r = json.load(open(sys.argv[1]))
assert "pose-dynamics" in r["model"] and r["ks"] == [1, 2, 4], r
prev = -1
for p in r["curve"]:
    a, b, c = (p[n]["rate"] for n in ("a_dream_picks", "b_pass_at_k", "c_bullet_picks"))
    assert 0 <= a <= b + 1e-12 and 0 <= c <= b + 1e-12 and b >= prev, p
    prev = b
PY

# 4. What does not apply to a pose-space model is refused by name (exit 2, one line).
bad() {  # bad WORD ARGS...
  local word=$1; shift
  "$exe" "$@" >/dev/null 2>"$tmp/err"; local rc=$?
  [[ $rc == 2 ]] || fail "$*: exit $rc, expected 2: $(cat "$tmp/err")"
  [[ $(wc -l <"$tmp/err") == 1 ]] || fail "$*: not one line: $(cat "$tmp/err")"
  grep -q -- "$word" "$tmp/err" || fail "$*: does not name $word: $(cat "$tmp/err")"
}
base=(plan --scene push --world dream --model "$tmp/m.pt" --episodes 1 --max-steps 5 --quiet)
bad "needs --reward poses" "${base[@]}"
bad "a contact gate" "${base[@]}" --reward poses --contact-gate 0.1
bad "a precision other than f32" "${base[@]}" --reward poses --precision bf16
bad "--judge" "${base[@]}" --reward poses --judge "$tmp/m.pt"
bad "f32 only" scale --scene push --model "$tmp/m.pt" --precision bf16 --out "$tmp/s2" --quiet
# The world-model commands: the checkpoint's family named, exit 1.
"$exe" fidelity --scene push --model "$tmp/m.pt" --episodes 1 >/dev/null 2>"$tmp/err"
rc=$?
[[ $rc != 0 ]] && grep -q "pose-dynamics" "$tmp/err" || fail "fidelity: exit $rc: $(cat "$tmp/err")"
echo "ok: pose-space model trained, planned with, refused where it does not apply"
