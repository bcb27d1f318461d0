#!/usr/bin/env bash
# parallax scenes: lists the five shipped scenes, text and --json.
set -euo pipefail
exe="$1"
src="$2"
py="${PARALLAX_TEST_PYTHON:-python3}"
export PARALLAX_ASSETS="$src/assets"

out="$("$exe" scenes)"
for s in billiards cartpole push reacher tower; do
  grep -q "^$s " <<<"$out" || { echo "scenes: '$s' missing from:"; echo "$out"; exit 1; }
done
[ "$(wc -l <<<"$out")" -eq 5 ] || { echo "scenes: expected 5 lines"; exit 1; }

"$exe" scenes --json | "$py" -c '
import json, sys
rows = json.load(sys.stdin)
names = [r["name"] for r in rows]
assert names == ["billiards", "cartpole", "push", "reacher", "tower"], names
for r in rows:
    assert r["description"], r
    assert r["action_size"] >= 1 and r["image"] == [64, 64], r
'

# A broken assets folder is a clear error, not an empty list.
empty="$(mktemp -d)"
trap 'rm -rf "$empty"' EXIT
mkdir -p "$empty/scenes"
if PARALLAX_ASSETS="$empty" "$exe" scenes 2>"$empty/err"; then
  echo "scenes: expected a failure with no scene files"; exit 1
fi
grep -q "parallax: error: no scene files" "$empty/err"
echo '{"name": "x", "bodies": [{"name": "b", "shape": "cone"}]}' >"$empty/scenes/x.json"
if PARALLAX_ASSETS="$empty" "$exe" scenes 2>"$empty/err"; then
  echo "scenes: expected a failure with a broken scene file"; exit 1
fi
grep -q 'x.json: bodies\[0\].shape' "$empty/err"
echo "scenes: ok"
