#!/usr/bin/env bash
# `parallax fidelity`: the shipped push model passes its committed quick baseline and beats
# nothing-moves at every horizon; the report is complete, consistent and reproducible; an
# untrained model fails the same gate with exit 3; bad models and baselines fail in one line.
set -euo pipefail
exe=${1:?parallax}; src=${2:?source dir}
py=${PARALLAX_TEST_PYTHON:-python3}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
base="$src/assets/baselines/push.json"

# 1. The gate on the shipped model: exit 0, and it beats nothing-moves at every horizon.
"$exe" fidelity --scene push --quick --threads 2 --quiet --out "$tmp/a" --baseline "$base" \
  --require-beats nothing-moves
# 1b. Decisions scored on the poses the predicted frames show (--decision-reward poses): its own
#     baseline set (the identity names it), and the report says how it scored.
"$exe" fidelity --scene push --quick --threads 2 --quiet --out "$tmp/p" --baseline "$base" \
  --decision-reward poses
grep -q '"reward": "poses"' "$tmp/p/report.json"
# 1c. bf16 inference (--precision bf16): the same quick set passes the f32 baseline (the identity
#     does not name the precision: the gate asks whether bf16 costs fidelity beyond tolerance);
#     the report records the precision.
"$exe" fidelity --scene push --quick --threads 2 --quiet --out "$tmp/bf" --baseline "$base" \
  --require-beats nothing-moves --precision bf16
grep -q '"precision": "bf16"' "$tmp/bf/report.json"
grep -q '"precision": "f32"' "$tmp/a/report.json"
set +e; "$exe" fidelity --scene push --quick --precision fp8 --out "$tmp/x" 2>"$tmp/err"; rc=$?; set -e
[[ $rc == 2 ]] && grep -q -- "--precision" "$tmp/err" || { echo "bad --precision: rc $rc"; exit 1; }
# 2. Same run again: an identical report.json (deterministic for the same model, seeds, threads).
"$exe" fidelity --scene push --quick --threads 2 --quiet --out "$tmp/b" >/dev/null
cmp "$tmp/a/report.json" "$tmp/b/report.json"
for f in report.md strip_open_loop.png strip_teacher_forced.png psnr_horizon.png position_error.png decision_regret.png; do test -s "$tmp/a/$f"; done

# 3. The report holds every metric, PSNR is that of the mean MSE, and predictors share frames.
"$py" - "$tmp/a/report.json" <<'PY'
import json, math, sys
r = json.load(open(sys.argv[1]))
ol = r["open_loop"]
assert set(ol) == {"model", "nothing-moves", "physical-variance", "constant-velocity"}, set(ol)
# Constant velocity predicts positions only (push.pt has two context frames).
cv = ol.pop("constant-velocity")
assert set(cv) == {"bodies"} and set(cv["bodies"]) == {"pusher", "cube"}, cv
assert all(cv["bodies"][b]["error_px"]["t+1"] >= 0 for b in cv["bodies"]), cv
assert r["eval"]["policies"] == ["random", "expert", "noisy"], r["eval"]["policies"]
assert all(s[0] >= 1_000_000_000 for s in r["eval"]["seeds"].values()), r["eval"]["seeds"]
for name, p in ol.items():
    for h in r["horizons"]:
        t = f"t+{h}"
        mse, psnr = p["mse"][t], p["psnr_db"][t]
        assert psnr is None or abs(psnr - 10 * math.log10(1 / mse)) < 1e-9, (name, t, mse, psnr)
    assert p["frames"] == ol["model"]["frames"], "predictors scored on different frames"
    assert set(p["bodies"]) == {"pusher", "cube"}, p["bodies"].keys()
for k in ("spatial_iou", "spatiotemporal_iou", "weighted_spatial_iou", "masked_mse"):
    assert r["motion"]["model"][k] is not None, k
assert r["teacher_forced"]["persistence"]["psnr_db"]["t+1"] is not None
assert r["returns"]["spearman"] is not None and r["decisions"]["decision_points"] > 0
# The colour body finder agrees with the renderer's ids on true frames.
for b, v in r["body_finder_validation"].items():
    assert v["error_px_overall"] < 0.5 and v["missing_rate_overall"] == 0, (b, v)
assert len(r["model"]["sha256"]) == 64
print("report ok: model t+1 %.2f dB vs nothing-moves %.2f dB" %
      (ol["model"]["psnr_db"]["t+1"], ol["nothing-moves"]["psnr_db"]["t+1"]))
PY

# 4. An untrained model (zero residual: it holds the last frame) regresses: exit 3, listed.
PYTHONPATH="$src/worldmodel/python" "$py" - "$tmp/untrained.pt" <<'PY'
import sys, torch, parallax_unet as pu
torch.manual_seed(0)
cfg = pu.default_config(64, 64, 2); cfg["scene"] = "push"
pu.save_checkpoint(sys.argv[1], pu.UNetWorldModel(cfg))
PY
set +e
"$exe" fidelity --scene push --quick --threads 2 --quiet --model "$tmp/untrained.pt" \
  --out "$tmp/u" --baseline "$base" 2>"$tmp/err"
rc=$?
set -e
[[ $rc == 3 ]] || { echo "untrained model: expected exit 3, got $rc"; cat "$tmp/err"; exit 1; }
grep -q "regressed: /open_loop/model/psnr_db/t+1 baseline" "$tmp/err"
set +e
"$exe" fidelity --scene push --quick --threads 2 --quiet --model "$tmp/untrained.pt" \
  --out "$tmp/u" --require-beats nothing-moves 2>"$tmp/err"
rc=$?
set -e
[[ $rc == 4 ]] || { echo "untrained model: expected exit 4, got $rc"; exit 1; }
grep -q "does not beat nothing-moves at t+1" "$tmp/err"

# 5. Bad input: one line, non-zero exit.
expect_fail() {  # expect_fail CODE PATTERN ARGS...
  local code=$1 pat=$2; shift 2
  set +e; "$exe" fidelity --quick --quiet --threads 2 --out "$tmp/bad" "$@" 2>"$tmp/err" >/dev/null; local rc=$?; set -e
  [[ $rc == "$code" ]] || { echo "expected exit $code, got $rc for: $*"; cat "$tmp/err"; exit 1; }
  [[ $(wc -l <"$tmp/err") == 1 ]] || { echo "expected one line for: $*"; cat "$tmp/err"; exit 1; }
  grep -q -- "$pat" "$tmp/err" || { echo "expected '$pat' for: $*"; cat "$tmp/err"; exit 1; }
}
PYTHONPATH="$src/worldmodel/python" "$py" - "$tmp" <<'PY'
import sys, torch, parallax_unet as pu
cfg = pu.default_config(64, 64, 2); cfg["scene"] = "billiards"
pu.save_checkpoint(sys.argv[1] + "/billiards.pt", pu.UNetWorldModel(cfg))
cfg = pu.default_config(32, 32, 2); cfg["scene"] = "push"
pu.save_checkpoint(sys.argv[1] + "/small.pt", pu.UNetWorldModel(cfg))
cfg = pu.default_config(64, 64, 3); cfg["scene"] = ""
pu.save_checkpoint(sys.argv[1] + "/actions3.pt", pu.UNetWorldModel(cfg))
PY
head -c 20000 "$src/assets/models/push.pt" >"$tmp/truncated.pt"
echo '{"sets": 3}' >"$tmp/bad-baseline.json"
expect_fail 1 "trained on scene 'billiards'" --scene push --model "$tmp/billiards.pt"
expect_fail 1 "expects 32x32 frames" --scene push --model "$tmp/small.pt"
expect_fail 1 "3 action components" --scene push --model "$tmp/actions3.pt"
expect_fail 1 "truncated.pt" --scene push --model "$tmp/truncated.pt"
expect_fail 1 "field 'sets'" --scene push --baseline "$tmp/bad-baseline.json"
expect_fail 1 "no set for this evaluation" --scene push --horizon 10 --baseline "$base"
expect_fail 1 "cannot be read" --scene push --baseline "$tmp/none.json"
expect_fail 2 "horizon" --scene push --horizon 0
expect_fail 2 "policies" --scene push --policies random,juggler
expect_fail 2 "seed" --scene push --seed -1
expect_fail 2 "decision-reward must be head or poses" --scene push --decision-reward reward
expect_fail 2 "require-beats must be nothing-moves or physical-variance" --scene push --require-beats constant-velocity
echo "fidelity ok"
