#!/usr/bin/env bash
# Scene and model switching while running, and the viewer's input checks:
# - loading the billiards model into the push scene is refused with the reason (the model was
#   trained on another scene: load_model_for_scene names both) and the viewer keeps ticking push;
# - switching to the billiards scene (its shipped model) works and ticks go on there;
# - modes switch live (mirror -> dream -> resync 5 -> mirror), seen in the trace;
# - a bad script line exits 2 naming file, line and value, before a window opens;
# - a negative or overflowing --seed is refused as by the CLI.
# usage: switching.sh PARALLAX_VIEW SOURCE_DIR PARALLAX
set -euo pipefail
view=${1:?parallax-view}; src=${2:?source dir}
py=${PARALLAX_TEST_PYTHON:-python3}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
command -v xvfb-run >/dev/null || { echo "xvfb-run missing (apt-get install xvfb): skipped"; exit 77; }
cat >"$tmp/script.txt" <<S
3 model $src/assets/models/billiards.pt
6 mode dream
9 mode resync 5
12 mode mirror
15 scene billiards
S
xvfb-run -a -s "-screen 0 1280x720x24" "$view" --scene push --envs 2 --seed 1 --frames 20 \
  --input-script "$tmp/script.txt" --trace "$tmp/trace.jsonl" >"$tmp/out.txt"
cat "$tmp/out.txt"
grep -q "^parallax-view: refused: .*billiards" "$tmp/out.txt"
grep -q "^parallax-view: switched to scene 'billiards'" "$tmp/out.txt"
"$py" - "$tmp/trace.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
modes = [r["mode"] for r in rows]
print(modes)
# Ticks 1-6 mirror (the refused model changed nothing), 7-9 dream, 10-12 resync, 13-15 mirror;
# then billiards restarts at tick 1.
assert modes[:15] == ["mirror"] * 6 + ["dream"] * 3 + ["resync"] * 3 + ["mirror"] * 3, modes
assert [r["tick"] for r in rows[:15]] == list(range(1, 16))
assert [r["tick"] for r in rows[15:]] == list(range(1, 6)), [r["tick"] for r in rows[15:]]
PY
# Bad script lines: one line naming file, line and value; exit 2.
printf '0 teleop on\n5 mode sideways\n' >"$tmp/bad.txt"
set +e
"$view" --input-script "$tmp/bad.txt" 2>"$tmp/err"; rc=$?
set -e
cat "$tmp/err"
[[ $rc == 2 ]] && [[ $(wc -l <"$tmp/err") == 1 ]]
grep -q "^parallax-view: error: $tmp/bad.txt:2: unknown mode 'sideways'" "$tmp/err"
printf '5 tap space\n3 tap space\n' >"$tmp/bad2.txt"
if "$view" --input-script "$tmp/bad2.txt" 2>"$tmp/err"; then exit 1; fi
grep -q "bad2.txt:2: frame 3 comes before" "$tmp/err"
# --seed like the CLI: no negative or overflowing values.
for seed in -1 18446744073709551616; do
  if "$view" --seed "$seed" 2>"$tmp/err"; then echo "--seed $seed accepted"; exit 1; fi
  grep -q "18446744073709551615" "$tmp/err"
done
echo "viewer switching ok"
