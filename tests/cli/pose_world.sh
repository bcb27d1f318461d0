#!/usr/bin/env bash
# The pose-world family: worldmodel/python/train_pose_world.py trains from collected billiards
# episodes (its held-out "nothing moves" and constant-velocity figures equal the balls'
# displacements recomputed from the dataset's poses), resumes, refuses bad flags and datasets in
# one line, trains with the rolling state (--spin, its target checked); `parallax fidelity
# --model` scores the checkpoints (family named in the report, every
# ball found, deterministic), and a scene it was not trained on is refused by name.
# usage: pose_world.sh PARALLAX_EXE SOURCE_DIR
source "$(dirname "${BASH_SOURCE[0]}")/lib/preamble.bash" "$@"
train=("$py" "$src/worldmodel/python/train_pose_world.py")
for agent in random noisy; do
  "$exe" collect --scene billiards --agent $agent --episodes 3 --envs 3 --seed 21 --threads 1 \
    --out "$tmp/$agent" --quiet >/dev/null 2>"$tmp/collect.txt" ||
    fail "parallax collect $agent: $(cat "$tmp/collect.txt")"
done

# 1. A short training with a held-out evaluation, then a resume.
"${train[@]}" --data "$tmp/random,$tmp/noisy" --eval-data "$tmp/noisy" --eval-episodes 3 \
  --hidden 16 --steps 20 --batch 16 --rollout 1:0.5,3:1 --eval-every 20 --checkpoint-every 10 \
  --out "$tmp/m.pt" --log "$tmp/m.jsonl" >/dev/null 2>"$tmp/t.err" ||
  fail "train_pose_world failed: $(tail -3 "$tmp/t.err")"
[ -s "$tmp/m.pt" ] && [ -s "$tmp/m.pt.state" ] || fail "no checkpoint or state written"
"${train[@]}" --data "$tmp/random,$tmp/noisy" --hidden 16 --steps 30 --batch 16 \
  --rollout 1:0.5,3:1 --out "$tmp/m.pt" --log "$tmp/m.jsonl" --resume >/dev/null 2>"$tmp/r.err" ||
  fail "resume failed: $(tail -3 "$tmp/r.err")"
"$py" - "$tmp" <<'PY' || fail "checkpoint or log"
import json, sys
import h5py, numpy as np, torch
t = sys.argv[1]
ck = torch.load(f"{t}/m.pt", weights_only=False)
assert ck["parallax_format"] == "parallax-model/2" and ck["family"] == "pose-world", ck.keys()
cfg = json.loads(ck["config"])
assert cfg["scene"] == "billiards" and cfg["bodies"] == ["cue", "red", "blue", "yellow"], cfg
assert cfg["hidden"] == 16 and cfg["action_size"] == 2, cfg
lines = [json.loads(l) for l in open(f"{t}/m.jsonl")]
assert [l["step"] for l in lines if "loss_mm2" in l] == [], lines  # logs every 100 steps
ev = [l for l in lines if "eval" in l]
assert len(ev) == 1 and ev[0]["step"] == 20, lines
# "Nothing moves" and constant velocity recomputed from the poses: windows of 30 ticks from every
# 5th tick, before the first tick the balls rest where they start.
f = h5py.File(f"{t}/noisy/data/main_data.hdf5", "r")
names = ["cue", "red", "blue", "yellow"]
for h in (1, 10):
    still, cv = {n: [] for n in names}, {n: [] for n in names}
    for k in sorted(f.keys(), key=lambda s: int(s.split("_")[1])):
        p = f[k]["infos/poses"][:, 5:9, :2].astype(np.float64)
        T = p.shape[0] - 1
        for s in range(0, T - 30 + 1, 5):
            prev = p[s - 1] if s > 0 else p[0]
            for j, n in enumerate(names):
                still[n].append(np.linalg.norm(p[s + h, j] - p[s, j]) * 100)
                cv[n].append(np.linalg.norm(p[s, j] + h * (p[s, j] - prev[j]) - p[s + h, j]) * 100)
    for n in names:
        got = ev[0]["eval"][f"t+{h}"][n]
        if still[n]:
            assert abs(got["nothing_moves_cm"] - np.mean(still[n])) < 1e-3, (h, n, got, np.mean(still[n]))
            assert abs(got["constant_velocity_cm"] - np.mean(cv[n])) < 1e-3, (h, n, got, np.mean(cv[n]))
PY

# 2. Bad flags: one line, exit 2; a folder that is not a dataset, or of a scene whose dynamic
# bodies are not spheres: one line, exit 1 / 2.
bad_train() {  # bad_train RC WORD ARGS...
  local want=$1 word=$2; shift 2
  "${train[@]}" "$@" >/dev/null 2>"$tmp/err"; local rc=$?
  [[ $rc == "$want" ]] || fail "train $*: exit $rc, expected $want: $(cat "$tmp/err")"
  [[ $(wc -l <"$tmp/err") == 1 ]] || fail "train $*: not one line: $(cat "$tmp/err")"
  grep -q -- "$word" "$tmp/err" || fail "train $*: does not name $word: $(cat "$tmp/err")"
}
bad_train 2 "--hidden" --data "$tmp/noisy" --hidden 2 --out "$tmp/x.pt"
bad_train 2 "--rollout" --data "$tmp/noisy" --rollout 3 --out "$tmp/x.pt"
bad_train 2 "--rollout" --data "$tmp/noisy" --rollout 900:1 --out "$tmp/x.pt"
bad_train 1 "$tmp/nothing" --data "$tmp/nothing" --out "$tmp/x.pt"
mkdir -p "$tmp/junk/data" && cp "$tmp/noisy/data/metadata.json" "$tmp/junk/data/" &&
  echo "not hdf5" >"$tmp/junk/data/main_data.hdf5"
bad_train 1 "main_data.hdf5" --data "$tmp/junk" --out "$tmp/x.pt"
"$exe" collect --scene push --agent random --episodes 1 --envs 1 --seed 1 --threads 1 \
  --out "$tmp/push" --quiet >/dev/null 2>&1 || fail "collect push"
bad_train 2 "'cube' is a box" --data "$tmp/push" --out "$tmp/x.pt"
bad_train 2 "--init" --data "$tmp/noisy" --init "$tmp/m.pt" --hidden 32 --out "$tmp/x.pt"
bad_train 1 "--init" --data "$tmp/noisy" --init "$tmp/nothing.pt" --hidden 16 --out "$tmp/x.pt"
[ ! -e "$tmp/x.pt" ] || fail "a refused run wrote a checkpoint"
# A fine-tuning stage from it starts from its weights: one step at learning rate 0 keeps them.
"${train[@]}" --data "$tmp/noisy" --init "$tmp/m.pt" --hidden 16 --steps 1 --lr 0 --lr-final 0 \
  --out "$tmp/ft.pt" >/dev/null 2>"$tmp/ft.err" || fail "--init: $(cat "$tmp/ft.err")"
"$py" - "$tmp" <<'PY' || fail "--init did not start from the checkpoint's weights"
import sys, torch
t = sys.argv[1]
a, b = torch.load(f"{t}/m.pt", weights_only=False), torch.load(f"{t}/ft.pt", weights_only=False)
assert all(torch.equal(a["weights"][k], b["weights"][k]) for k in a["weights"]), "weights differ"
PY

# 2b. The rolling state (--spin): its target from the recorded quaternions equals r (theta x z)
# with theta recomputed independently from rotation matrices (the axis from R - R^T, the angle from
# the trace); a --spin stage grown from a plain checkpoint starts as it (new weights zero); a
# rolling checkpoint does not fit a plain run.
"$py" - "$tmp" "$src/worldmodel/python" <<'PY' || fail "rolling displacement"
import sys
import h5py, numpy as np
sys.path.insert(0, sys.argv[2])
import train_pose_world as tpw
f = h5py.File(f"{sys.argv[1]}/random/data/main_data.hdf5", "r")
poses = f["episode_0/infos/poses"][...].astype(np.float64)
radii = np.zeros(poses.shape[1]); radii[5:9] = 0.03
got = tpw.rolling_displacement(poses, radii)
def mat(q):
    x, y, z, w = q
    return np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
                     [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
                     [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]])
assert np.all(got[0] == 0), got[0]
worst, moved = 0.0, 0
for t in range(1, poses.shape[0]):
    for k in range(5, 9):
        R = mat(poses[t, k, 3:]) @ mat(poses[t - 1, k, 3:]).T
        angle = np.arccos(np.clip((np.trace(R) - 1) / 2, -1, 1))
        axis = np.array([R[2, 1] - R[1, 2], R[0, 2] - R[2, 0], R[1, 0] - R[0, 1]])
        theta = axis / (2 * np.sin(angle)) * angle if angle > 1e-6 else axis / 2
        want = 0.03 * np.array([theta[1], -theta[0]])
        worst = max(worst, float(np.abs(got[t, k] - want).max()))
        moved += np.abs(want).max() > 1e-3
assert worst < 2e-7 and moved > 10, (worst, moved)
PY
"${train[@]}" --data "$tmp/random,$tmp/noisy" --eval-data "$tmp/noisy" --eval-episodes 3 \
  --hidden 16 --steps 20 --batch 16 --rollout 1:0.5,3:1 --eval-every 20 --spin \
  --init "$tmp/m.pt" --out "$tmp/s.pt" >/dev/null 2>"$tmp/s.err" ||
  fail "train_pose_world --spin failed: $(tail -3 "$tmp/s.err")"
"${train[@]}" --data "$tmp/noisy" --init "$tmp/m.pt" --hidden 16 --steps 1 --lr 0 --lr-final 0 \
  --spin --out "$tmp/grown.pt" >/dev/null 2>"$tmp/g.err" || fail "--spin --init: $(cat "$tmp/g.err")"
"$py" - "$tmp" <<'PY' || fail "--spin from a plain checkpoint"
import json, sys, torch
t = sys.argv[1]
a, b = torch.load(f"{t}/m.pt", weights_only=False), torch.load(f"{t}/grown.pt", weights_only=False)
assert json.loads(b["config"]).get("rolling_state") is True, b["config"]
for k, v in a["weights"].items():
    g = b["weights"][k]
    part = g[tuple(slice(0, n) for n in v.shape)]
    assert torch.equal(part, v), k
    rest = g.clone()
    rest[tuple(slice(0, n) for n in v.shape)] = 0
    assert not rest.any(), f"{k}: the new weights are not zero"
assert b["weights"]["0.weight"].shape[1] == a["weights"]["0.weight"].shape[1] + 9
assert b["weights"]["6.weight"].shape[0] == 2 * a["weights"]["6.weight"].shape[0]
PY
bad_train 2 "rolling_state" --data "$tmp/noisy" --init "$tmp/s.pt" --hidden 16 --out "$tmp/x.pt"
[ ! -e "$tmp/x.pt" ] || fail "a refused run wrote a checkpoint"

# 3. Fidelity with it: the family in the report, every ball found in every predicted frame (they
# are drawn by the scene's renderer), the same figures twice.
for model in m s; do  # plain and with the rolling state
fid=(fidelity --scene billiards --model "$tmp/$model.pt" --policies random --episodes 1 --horizon 5
     --decisions 0 --threads 1 --quiet --json)
"$exe" "${fid[@]}" --out "$tmp/f" >"$tmp/f.json" 2>"$tmp/f.err" || fail "fidelity: $(cat "$tmp/f.err")"
"$exe" "${fid[@]}" --out "$tmp/f2" >"$tmp/f2.json" 2>"$tmp/f2.err" || fail "fidelity again: $(cat "$tmp/f2.err")"
"$py" - "$tmp" <<'PY' || fail "fidelity report ($model.pt)"
import json, sys
t = sys.argv[1]
r = json.load(open(f"{t}/f/report.json"))
assert r["model"]["family"] == "pose-world", r["model"]
assert r["model"]["context_frames"] == 4, r["model"]
m = r["open_loop"]["model"]
assert sorted(m["bodies"]) == ["blue", "cue", "red", "yellow"], m["bodies"].keys()
for body, b in m["bodies"].items():
    assert all(v == 0 for v in b["missing_rate"].values()), (body, b["missing_rate"])
a, b = json.load(open(f"{t}/f.json")), json.load(open(f"{t}/f2.json"))
strip = lambda j: {k: v for k, v in j.items() if k != "report"}  # noqa: E731
assert strip(a) == strip(b), "not deterministic"
PY
done

# 4. The shipped billiards model passes its own committed gate (assets/baselines/billiards.json,
#    written by `fidelity --scene billiards --quick --threads 2 --write-baseline`) on one thread.
"$exe" fidelity --scene billiards --quick --threads 1 --quiet --out "$tmp/gate" \
  --baseline "$src/assets/baselines/billiards.json" >/dev/null 2>"$tmp/gate.err" ||
  fail "the shipped billiards model fails its gate: $(tail -3 "$tmp/gate.err")"

# 5. A scene it was not trained on: refused by name.
"$exe" fidelity --scene push --model "$tmp/m.pt" --episodes 1 --quiet --out "$tmp/g" >/dev/null 2>"$tmp/err"
rc=$?
[[ $rc != 0 ]] && grep -q "trained on scene 'billiards'" "$tmp/err" ||
  fail "fidelity on push: exit $rc: $(cat "$tmp/err")"
echo "ok: pose-world model trained, resumed, scored by fidelity, refused on another scene"
