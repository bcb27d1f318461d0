#!/usr/bin/env bash
# `parallax export` writes a weights-only checkpoint: smaller than the training checkpoint, the
# same predictions (demo reports are identical), and bad inputs fail with a clear message.
set -euo pipefail
exe=${1:?parallax}; src=${2:?source dir}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
"$exe" collect --scene push --agent random --episodes 2 --envs 2 --seed 3 --threads 1 --out "$tmp/data" --quiet
"$exe" train --data "$tmp/data" --preset tiny --steps 2 --batch 2 --seq 4 --threads 1 --quiet --out "$tmp/train.pt"
"$exe" export --in "$tmp/train.pt" --out "$tmp/ship.pt"
full=$(stat -c %s "$tmp/train.pt"); ship=$(stat -c %s "$tmp/ship.pt")
echo "training checkpoint $full bytes, exported $ship bytes"
(( ship * 2 < full )) || { echo "export did not drop the optimiser state"; exit 1; }
"$exe" demo --model "$tmp/train.pt" --envs 1 --ticks 3 --threads 1 --out "$tmp/d1" >/dev/null
"$exe" demo --model "$tmp/ship.pt" --envs 1 --ticks 3 --threads 1 --out "$tmp/d2" >/dev/null
# same weights => same per-step numbers (the model path in the report differs, so compare steps)
python3 - "$tmp/d1/report.json" "$tmp/d2/report.json" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
assert a["steps"] == b["steps"], "exported model predicts differently"
print("exported model predicts identically")
PY
echo "not a checkpoint" >"$tmp/bad.pt"
if "$exe" export --in "$tmp/bad.pt" --out "$tmp/x.pt" 2>"$tmp/err"; then echo "expected failure"; exit 1; fi
cat "$tmp/err"; grep -q "bad.pt" "$tmp/err"
test ! -e "$tmp/x.pt"
echo "export ok"
