#!/usr/bin/env bash
# parallax sim: an external scene file by path, the JSONL trajectory, determinism across thread
# counts, and bad input (clear error, non-zero exit, no crash, no half-written output).
set -euo pipefail
exe="$1"
src="$2"
py="${PARALLAX_TEST_PYTHON:-python3}"
export PARALLAX_ASSETS="$src/assets"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# An external scene: the shipped push scene renamed and with a heavier cube, outside assets/.
"$py" - "$src/assets/scenes/push.json" "$tmp/my_push.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
s["name"] = "my_push"
s["bodies"][2]["mass"] = 0.5
json.dump(s, open(sys.argv[2], "w"))
PY

"$exe" sim --scene "$tmp/my_push.json" --seed 3 --steps 20 --envs 3 --threads 2 \
  --actions random --out "$tmp/traj.jsonl" >"$tmp/summary.txt"
grep -q "my_push: 3 envs x 20 steps" "$tmp/summary.txt"
"$py" - "$tmp/traj.jsonl" <<'PY'
import json, math, sys
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 20, len(lines)
for t, line in enumerate(lines, 1):
    row = json.loads(line)
    assert row["step"] == t
    assert [e["env"] for e in row["envs"]] == [0, 1, 2]
    for e in row["envs"]:
        assert isinstance(e["reward"], float) and isinstance(e["terminated"], bool)
        assert isinstance(e["truncated"], bool) and len(e["action"]) == 2
        assert [b["name"] for b in e["bodies"]] == ["table", "pusher", "cube"]
        for b in e["bodies"]:
            q = b["orientation"]
            assert abs(math.sqrt(sum(x * x for x in q)) - 1) < 1e-5, q
            assert len(b["position"]) == 3 and len(b["linear_velocity"]) == 3
            assert len(b["angular_velocity"]) == 3
# The cube rests on the table (z = half extent) and the pusher moves at <= 0.5 m/s.
cube = json.loads(lines[-1])["envs"][0]["bodies"][2]
assert abs(cube["position"][2] - 0.04) < 2e-3, cube
pusher = json.loads(lines[-1])["envs"][1]["bodies"][1]
assert math.hypot(*pusher["linear_velocity"][:2]) <= 0.5 * math.sqrt(2) + 1e-4, pusher
PY

# Same run with 1 thread: byte-identical trajectory.
"$exe" sim --scene "$tmp/my_push.json" --seed 3 --steps 20 --envs 3 --threads 1 \
  --actions random --out "$tmp/traj1.jsonl" >/dev/null
cmp "$tmp/traj.jsonl" "$tmp/traj1.jsonl"

# Recorded actions from a CSV (one row per step, broadcast to every env), --json summary.
for i in $(seq 1 5); do echo "1.0, 0.0"; done >"$tmp/act.csv"
"$exe" sim --scene push --steps 5 --actions "$tmp/act.csv" --out "$tmp/csv.jsonl" --json \
  | "$py" -c 'import json,sys; j=json.load(sys.stdin); assert j["steps"]==5 and j["scene"]=="push", j'
"$py" - "$tmp/csv.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert all(r["envs"][0]["action"] == [1.0, 0.0] for r in rows)
v = rows[-1]["envs"][0]["bodies"][1]["linear_velocity"]
assert abs(v[0] - 0.5) < 1e-3 and abs(v[1]) < 1e-3, v  # the pusher moves at max_speed along +x
PY

# Bad input: each must fail with "parallax: error:" (or CLI11's message), exit 1..2 or CLI11's
# code, never a crash (>= 128), and never leave an output file behind.
expect_fail() {
  local what="$1" pattern="$2"
  shift 2
  set +e
  "$@" >"$tmp/out.txt" 2>"$tmp/err.txt"
  local rc=$?
  set -e
  if [ "$rc" -eq 0 ] || [ "$rc" -ge 128 ]; then
    echo "sim: $what: expected a clean failure, got exit $rc"; cat "$tmp/err.txt"; exit 1
  fi
  if ! grep -q -- "$pattern" "$tmp/err.txt"; then
    echo "sim: $what: expected '$pattern' in:"; cat "$tmp/err.txt"; exit 1
  fi
  if [ -e "$tmp/bad.jsonl" ] || ls "$tmp"/bad.jsonl.tmp-* >/dev/null 2>&1; then
    echo "sim: $what: left an output file behind"; exit 1
  fi
}
expect_fail "--steps 0" "steps" "$exe" sim --steps 0 --out "$tmp/bad.jsonl"
expect_fail "--envs 0" "envs" "$exe" sim --envs 0 --out "$tmp/bad.jsonl"
expect_fail "missing scene file" "nothere.json: cannot open" \
  "$exe" sim --scene "$tmp/nothere.json" --out "$tmp/bad.jsonl"
expect_fail "unknown scene name" 'unknown scene "nope"' "$exe" sim --scene nope --out "$tmp/bad.jsonl"
echo '{"name": "broken", "bodies": [' >"$tmp/malformed.json"
expect_fail "malformed JSON" "malformed.json: malformed JSON" \
  "$exe" sim --scene "$tmp/malformed.json" --out "$tmp/bad.jsonl"
"$py" - "$src/assets/scenes/push.json" "$tmp/negmass.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1])); s["bodies"][2]["mass"] = -1.0
json.dump(s, open(sys.argv[2], "w"))
PY
expect_fail "negative mass" "negmass.json: bodies\[2\].mass: expected a mass >= 0" \
  "$exe" sim --scene "$tmp/negmass.json" --out "$tmp/bad.jsonl"
printf '0.1, 0.2\n0.3, nan\n' >"$tmp/nan.csv"
expect_fail "NaN action" "nan.csv:2: column 2" \
  "$exe" sim --actions "$tmp/nan.csv" --steps 2 --out "$tmp/bad.jsonl"
printf '0.1, 0.2, 0.3\n' >"$tmp/wide.csv"
expect_fail "wrong action length" "wide.csv:1: expected 2 values" \
  "$exe" sim --actions "$tmp/wide.csv" --steps 1 --out "$tmp/bad.jsonl"
printf '0.1, 0.2\n' >"$tmp/short.csv"
expect_fail "too few action rows" "short.csv: has 1 action rows" \
  "$exe" sim --actions "$tmp/short.csv" --steps 3 --out "$tmp/bad.jsonl"
expect_fail "missing actions file" "cannot open the actions file" \
  "$exe" sim --actions "$tmp/none.csv" --out "$tmp/bad.jsonl"
echo "sim: ok"
