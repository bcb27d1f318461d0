#!/usr/bin/env bash
# `parallax scale`: a small run with the shipped push model writes scale.json, scale.md and
# scale.png; pass@K never decreases and bounds the best-of-K curves; the K notation with '...'
# expands; bad flags exit 2 with one line and write nothing.
set -euo pipefail
exe=${1:?parallax}; src=${2:?source dir}
py=${PARALLAX_TEST_PYTHON:-python3}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

"$exe" scale --scene push --k 1,2,...,8 --decisions 2 --horizon 6 --lead 3 --batch 8 \
  --threads 2 --quiet --json --out "$tmp/s" >"$tmp/s.json" 2>/dev/null
"$py" - "$tmp" <<'PY'
import json, sys
from skimage import io
t = sys.argv[1]
r = json.load(open(f"{t}/s.json"))
assert r == json.load(open(f"{t}/s/scale.json")), "stdout and scale.json differ"
assert r["ks"] == [1, 2, 4, 8] and r["candidates"] == 8 and r["decisions"] == 2, r["ks"]
prev = -1
for p in r["curve"]:
    a, b, c = (p[n]["rate"] for n in ("a_dream_picks", "b_pass_at_k", "c_bullet_picks"))
    assert 0 <= a <= b + 1e-12 and 0 <= c <= b + 1e-12 and b >= prev, p
    lo, hi = p["b_pass_at_k"]["ci95"]
    assert lo <= b + 1e-12 <= hi + 2e-12, p
    prev = b
assert r["k_peak_a"] in r["ks"]
assert len(r["per_decision"]) == 2 and r["timing"]["imagined_steps_per_s"] > 0
md = open(f"{t}/s/scale.md").read()
assert "| 8 |" in md and "red (a)" in md, md
img = io.imread(f"{t}/s/scale.png")
assert img.shape == (400, 640, 3), img.shape
print("scale ok: pass@8", prev)
PY

# The dream scoring with the scene's reward on the predicted poses: recorded, same invariants.
"$exe" scale --scene push --k 1,2,4 --decisions 2 --horizon 6 --lead 3 --batch 4 --reward poses \
  --threads 2 --quiet --json --out "$tmp/p" >"$tmp/p.json" 2>/dev/null
"$py" - "$tmp/p.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["reward"] == "poses", r.get("reward")
for p in r["curve"]:
    a, b = p["a_dream_picks"]["rate"], p["b_pass_at_k"]["rate"]
    assert 0 <= a <= b + 1e-12, p
PY

bad() {
  set +e; "$exe" "$@" >/dev/null 2>"$tmp/err"; rc=$?; set -e
  [[ $rc == 2 ]] || { echo "expected exit 2 for: $*, got $rc"; cat "$tmp/err"; exit 1; }
  [[ $(wc -l <"$tmp/err") == 1 ]] || { echo "expected one line for: $*"; cat "$tmp/err"; exit 1; }
}
bad scale --out "$tmp/x" --k 4,2
bad scale --out "$tmp/x" --k 1,...,8
bad scale --out "$tmp/x" --lead 20 --horizon 10
bad scale --out "$tmp/x" --decisions 0
bad scale --out "$tmp/x" --batch 0
bad scale --out "$tmp/x" --reward reward
bad scale --k 1,2
[[ ! -e $tmp/x ]] || { echo "a refused run created its output folder"; exit 1; }
echo "scale ok"
