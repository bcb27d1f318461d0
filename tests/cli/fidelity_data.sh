#!/usr/bin/env bash
# `parallax fidelity --data DIR`: a model scored on a recorded dataset's episodes (a window from
# --data-start, replayed in Bullet and checked against the recorded frames). The report's
# episodes, seeds and true returns are the dataset's (read back with h5py); a tampered frame is
# refused in one line naming the episode and frame; flags that do not apply are refused (exit 2).
set -euo pipefail
exe=${1:?parallax}; src=${2:?source dir}
py=${PARALLAX_TEST_PYTHON:-python3}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$exe" collect --scene push --agent noisy --episodes 3 --envs 3 --seed 77 --threads 1 \
  --out "$tmp/ds" --quiet >/dev/null
run=(fidelity --scene push --model "$src/assets/models/push-latent.pt" --data "$tmp/ds"
     --horizon 10 --decisions 1 --candidates 4 --plan-steps 4 --threads 1 --quiet)

# A window from step 5 of the first 2 episodes.
"$exe" "${run[@]}" --data-start 5 --episodes 2 --out "$tmp/a" >/dev/null ||
  fail "fidelity --data failed"
"$py" - "$tmp/a/report.json" "$tmp/ds" <<'PY' || fail "report against the dataset"
import json, sys, h5py, numpy as np
r = json.load(open(sys.argv[1]))
e = r["eval"]
assert e["data"].endswith("ds") and e["data_start"] == 5 and e["episodes"] == 2, e
assert e["policies"] == ["noisy"], e["policies"]  # the dataset's algorithm name
with h5py.File(sys.argv[2] + "/data/main_data.hdf5", "r") as f:
    for i, ep in enumerate(r["episodes"]):
        g = f[f"episode_{i}"]
        assert ep["seed"] == int(g.attrs["seed"]), (ep, dict(g.attrs))
        rew = np.asarray(g["rewards"], np.float64)
        # Bullet's open-loop return: the recorded rewards of the horizon after the last context
        # frame t0 = C - 1 of the window that starts at step 5 (up to the episode's end).
        t0, hz = r["model"]["context_frames"] - 1, e["horizon"]
        want = rew[5 + t0: 5 + min(t0 + hz, ep["length"])].sum()
        assert abs(ep["return_bullet"] - want) < 1e-4, (i, ep["return_bullet"], want)
assert r["decisions"]["decision_points"] >= 1, r["decisions"]
assert r["open_loop"]["model"]["psnr_db"]["t+1"] is not None
PY
grep -q "recorded episodes of" "$tmp/a/report.md" || fail "report.md does not name the dataset"

# A recorded frame that Bullet does not reproduce: refused, one line, exit 1.
"$py" - "$tmp/ds" <<'PY'
import sys, h5py
with h5py.File(sys.argv[1] + "/data/main_data.hdf5", "r+") as f:
    obs = f["episode_0/observations"]
    v = obs[7]
    v[0, 10, 10] ^= 0x40
    obs[7] = v
PY
set +e
"$exe" "${run[@]}" --out "$tmp/b" >/dev/null 2>"$tmp/err"; rc=$?
set -e
[ $rc -eq 1 ] || fail "tampered dataset: expected exit 1, got $rc: $(cat "$tmp/err")"
[ "$(wc -l <"$tmp/err")" -eq 1 ] || fail "expected one line: $(cat "$tmp/err")"
grep -q "episode 0 .*recorded frame 7" "$tmp/err" || fail "message: $(cat "$tmp/err")"

# Flags that do not apply to a dataset, and a start past every episode.
refuse() {  # refuse EXIT WORD ARGS...
  local want=$1 word=$2; shift 2
  set +e; "$exe" "$@" >/dev/null 2>"$tmp/err"; local rc=$?; set -e
  [ $rc -eq "$want" ] || fail "expected exit $want for $*, got $rc: $(cat "$tmp/err")"
  grep -q -- "$word" "$tmp/err" || fail "message does not name $word: $(cat "$tmp/err")"
}
refuse 2 --policies "${run[@]}" --policies random --out "$tmp/c"
refuse 2 --seed "${run[@]}" --seed 5 --out "$tmp/c"
refuse 2 --write-baseline "${run[@]}" --write-baseline "$tmp/b.json" --out "$tmp/c"
refuse 2 "--data-start needs --data" fidelity --scene push --data-start 3 --out "$tmp/c"
refuse 1 "no episode is longer" "${run[@]}" --data-start 100000 --out "$tmp/c"
echo "fidelity --data ok"
