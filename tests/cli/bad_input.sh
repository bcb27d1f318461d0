#!/usr/bin/env bash
# Hostile scene files and flag values (issue 8, "Bad input"): each must answer in one line on
# stderr with a non-zero exit below 128 (no crash, no hang) and leave no file behind.
set -euo pipefail
exe="$1"
src="$2"
py="${PARALLAX_TEST_PYTHON:-python3}"
export PARALLAX_ASSETS="$src/assets"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/out"

# expect_fail WHAT PATTERN CMD...: clean one-line failure naming PATTERN; $tmp/out stays empty.
expect_fail() {
  local what="$1" pattern="$2"
  shift 2
  set +e
  timeout 60 "$@" >"$tmp/stdout.txt" 2>"$tmp/err.txt"
  local rc=$?
  set -e
  if [ "$rc" -eq 0 ] || [ "$rc" -ge 124 ]; then
    echo "bad_input: $what: expected a clean failure, got exit $rc"; head -c 2000 "$tmp/err.txt"; exit 1
  fi
  if ! grep -q -- "$pattern" "$tmp/err.txt"; then
    echo "bad_input: $what: expected '$pattern' in:"; head -c 2000 "$tmp/err.txt"; exit 1
  fi
  local lines
  lines=$(grep -cv "^Run with --help" "$tmp/err.txt" || true)  # CLI11's hint: issue 8 item 4
  if [ "$lines" -ne 1 ]; then
    echo "bad_input: $what: expected one line on stderr, got $lines:"; head -c 2000 "$tmp/err.txt"
    exit 1
  fi
  if [ -n "$(ls -A "$tmp/out")" ]; then
    echo "bad_input: $what: left files behind:"; ls -A "$tmp/out"; exit 1
  fi
}

# ---- scene files -------------------------------------------------------------------------
"$py" - "$src/assets/scenes/push.json" "$tmp" <<'PY'
import json, sys
push = open(sys.argv[1]).read()
d = sys.argv[2]
deep = "[" * 80000 + "]" * 80000
open(f"{d}/deep.json", "w").write(deep)
open(f"{d}/deep_field.json", "w").write(push.replace('"mass": 0.2', '"mass": ' + deep, 1))
open(f"{d}/dupkey.json", "w").write(push.replace('"mass": 0.2', '"mass": -1, "mass": 0.2', 1))
open(f"{d}/overflow.json", "w").write(push.replace('"mass": 0.2', '"mass": 1e309', 1))
def edited(name, edit):
    s = json.loads(push)
    edit(s)
    json.dump(s, open(f"{d}/{name}.json", "w"))
edited("radius", lambda s: s["bodies"][1].update(radius=1e39))
edited("normal", lambda s: s["bodies"][0].update(shape="plane", normal=[0, 0, 1e200],
                                                  half_extents=None) or
       s["bodies"][0].pop("half_extents"))
edited("rates", lambda s: s.update(physics_hz=2.0 ** 31 * 30))
edited("up", lambda s: s.update(camera={"eye": [0, 0, 2], "target": [0, 0, 0], "up": [0, 0, 1]}))
edited("newline", lambda s: s["bodies"][2].update(name="cu\nbe"))
edited("size", lambda s: s["camera"].update(width=4096))
PY
sim=("$exe" sim --steps 2 --out "$tmp/out/t.jsonl")
expect_fail "80000 levels" "deep.json: \[0\]\[0\].*nested deeper than 64" "${sim[@]}" --scene "$tmp/deep.json"
expect_fail "80000 levels in a field" "deep_field.json: bodies\[2\].mass.*nested deeper than 64" \
  "${sim[@]}" --scene "$tmp/deep_field.json"
expect_fail "duplicate key" "dupkey.json: bodies\[2\].mass: duplicate key" "${sim[@]}" --scene "$tmp/dupkey.json"
expect_fail "1e309" "overflow.json: bodies\[2\].mass: expected a number within float32 range, found 1e309" \
  "${sim[@]}" --scene "$tmp/overflow.json"
expect_fail "radius 1e39" "radius.json: bodies\[1\].radius: expected a finite number within float32" \
  "${sim[@]}" --scene "$tmp/radius.json"
expect_fail "normal 1e200" "normal.json: bodies\[0\].normal\[2\]: expected a finite number within float32" \
  "${sim[@]}" --scene "$tmp/normal.json"
expect_fail "rate ratio 2^31" "rates.json: physics_hz: expected a rate (Hz) in \[1, 10000\]" \
  "${sim[@]}" --scene "$tmp/rates.json"
expect_fail "camera up parallel to the view" "up.json: camera.up: must not be parallel" \
  "${sim[@]}" --scene "$tmp/up.json"
expect_fail "name with a newline" 'newline.json: bodies\[2\].name: expected a name without control' \
  "${sim[@]}" --scene "$tmp/newline.json"
expect_fail "camera width 4096" "size.json: camera.width: expected an integer in \[16, 1024\]" \
  "${sim[@]}" --scene "$tmp/size.json"

# ---- flags -------------------------------------------------------------------------------
for seed in -1 18446744073709551616 0x10 ""; do
  expect_fail "sim --seed '$seed'" "--seed" "${sim[@]}" --seed "$seed"
done
for seed in -1 18446744073709551616; do
  expect_fail "render --seed '$seed'" "--seed" \
    "$exe" render --scene push --seed "$seed" --out "$tmp/out/r.png"
  expect_fail "collect --seed '$seed'" "--seed" \
    "$exe" collect --episodes 1 --seed "$seed" --out "$tmp/out/ds"
  expect_fail "train --seed '$seed'" "--seed" \
    "$exe" train --data "$tmp" --seed "$seed" --out "$tmp/out/m.pt"
done
"$exe" sim --steps 1 --seed 18446744073709551615 --json | grep -q '"seed":18446744073709551615'

expect_fail "--threads 1024" "--threads" "${sim[@]}" --threads 1024
expect_fail "--envs 1000000" "cannot build 1000000 envs of scene push: they need about" \
  "${sim[@]}" --envs 1000000
# Threads the system refuses to start (address space capped): an error, not a hang.
# The cap: the address space of a running sim plus 600 MB, room for a few 8 MiB stacks, not 255.
"$exe" sim --steps 100000000 >/dev/null 2>&1 &
sim_pid=$!
sleep 1
vm_kib=$(awk '/^VmSize/ {print $2}' "/proc/$sim_pid/status")
kill "$sim_pid"
wait "$sim_pid" 2>/dev/null || true
expect_fail "--threads 256 under ulimit -v" "cannot start 256 threads" \
  bash -c 'ulimit -v "$1"; shift; exec "$@"' _ $((vm_kib + 600000)) \
  "$exe" sim --steps 2 --threads 256 --out "$tmp/out/t.jsonl"

expect_fail "render --ids into a missing folder" "--ids no/such/dir/i.png: folder no/such/dir does not exist" \
  "$exe" render --scene push --seed 0 --out "$tmp/out/r.png" --ids no/such/dir/i.png
expect_fail "render --out into a missing folder" "--out no/such/dir/r.png: folder" \
  "$exe" render --scene push --seed 0 --out no/such/dir/r.png --ids "$tmp/out/i.png"

# --json with paths that are not UTF-8: the command succeeds and prints valid JSON.
bad=$(printf 'bad\xff')
cp "$src/assets/scenes/push.json" "$tmp/$bad.json"
"$exe" sim --scene "$tmp/$bad.json" --steps 2 --out "$tmp/$bad.jsonl" --json >"$tmp/sim.json"
"$py" -c 'import json,sys; j=json.load(open(sys.argv[1])); assert j["steps"] == 2, j' "$tmp/sim.json"
test -s "$tmp/$bad.jsonl"
"$exe" render --scene push --seed 0 --out "$tmp/$bad.png" --json >"$tmp/render.json"
"$py" -c 'import json,sys; j=json.load(open(sys.argv[1])); assert j["width"] > 0, j' "$tmp/render.json"
echo "bad_input: ok"
