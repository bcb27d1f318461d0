#!/usr/bin/env bash
# The CLI toolkit's shared flags: --threads 0 (all cores) in every command that has the flag,
# out-of-range thread counts refused in one line with exit 2, and --policy in collect (with
# --agent kept as its alias).
set -euo pipefail
exe="$1"
src="$2"
export PARALLAX_ASSETS="$src/assets"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
fail() { echo "toolkit: $*"; exit 1; }

"$exe" sim --scene push --steps 2 --envs 3 --threads 0 --json >"$tmp/sim.json" ||
  fail "sim --threads 0 refused"
grep -q '"threads":[1-9]' "$tmp/sim.json" || fail "sim --threads 0 did not resolve: $(cat "$tmp/sim.json")"
"$exe" render --scene push --seed 0 --threads 0 --out "$tmp/f.png" >/dev/null ||
  fail "render --threads 0 refused"
[ -s "$tmp/f.png" ] || fail "render wrote nothing"

for cmd in "sim --steps 1" "render --scene push --seed 0 --out $tmp/g.png" \
           "demo" "plan" "evaluate" "fidelity" "train --data $tmp --out $tmp/y.pt" "collect --out $tmp/d"; do
  for bad in -1 257; do
    set +e
    # shellcheck disable=SC2086
    "$exe" $cmd --threads $bad >/dev/null 2>"$tmp/err"
    rc=$?
    set -e
    [ $rc -eq 2 ] || fail "'$cmd --threads $bad': exit $rc, expected 2"
    [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q "^parallax: error: .*--threads" "$tmp/err" ||
      fail "'$cmd --threads $bad': $(cat "$tmp/err")"
  done
done
[ ! -e "$tmp/g.png" ] || fail "a refused render wrote its output"

# collect: --policy, and --agent as its alias, give the same dataset record.
python3 - "$src/assets/scenes/push.json" "$tmp/tiny.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
s["episode_steps"] = 2
s["camera"]["width"] = s["camera"]["height"] = 16
json.dump(s, open(sys.argv[2], "w"))
PY
for flag in --policy --agent; do
  "$exe" collect --scene "$tmp/tiny.json" $flag random --episodes 1 --threads 1 --quiet \
    --out "$tmp/ds$flag" >/dev/null || fail "collect $flag random failed"
  grep -q '"algorithm_name": *"random"' "$tmp/ds$flag/data/metadata.json" ||
    fail "collect $flag: algorithm_name is not random"
done
set +e
"$exe" collect --scene "$tmp/tiny.json" --policy bogus --episodes 1 --out "$tmp/x" >/dev/null 2>"$tmp/err"
rc=$?
set -e
[ $rc -eq 2 ] || fail "collect --policy bogus: exit $rc, expected 2 ($(cat "$tmp/err"))"
echo "toolkit ok"
