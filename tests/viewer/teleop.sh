#!/usr/bin/env bash
# Scripted teleoperation under Xvfb moves the pusher in both worlds. The script holds "right"
# for ticks 1-12, then "up" for ticks 13-18, then nothing; the viewer's trace (one JSON line per
# tick of env 0) gives the pusher's centroid in the true frame (the renderer's ids) and in the
# predicted frame (the fidelity module's colour method) with the shipped push model.
# Expected, from the scene alone: action [1, 0] is +x at 0.5 m/s (push.json planar_velocity
# max_speed), the camera looks along +y from -y (push.json camera), so "right" moves the pusher
# right in the image (x grows) and "up" moves it away from the camera (y shrinks). 12 ticks at
# 30 Hz = 0.2 m, many pixels on the 64x64 frame: we ask for > 5 px in the true frame and > 3 px
# in the predicted one; 6 ticks "up" = 0.1 m, foreshortened by the camera's tilt: > 2 px. After
# release the pusher stays within 2 px (a dream that ignored the actions would fail the first).
# usage: teleop.sh PARALLAX_VIEW SOURCE_DIR PARALLAX
set -euo pipefail
view=${1:?parallax-view}; src=${2:?source dir}
py=${PARALLAX_TEST_PYTHON:-python3}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
command -v xvfb-run >/dev/null || { echo "xvfb-run missing (apt-get install xvfb): skipped"; exit 77; }
cat >"$tmp/script.txt" <<'S'
# frame verb args: teleoperate env 0 (frame f applies before tick f + 1)
0 teleop on
0 key right down
12 key right up
12 key up down
18 key up up
S
xvfb-run -a -s "-screen 0 1280x720x24" "$view" --scene push --envs 2 --seed 4 --frames 36 \
  --input-script "$tmp/script.txt" --trace "$tmp/trace.jsonl" >"$tmp/out.txt"
"$py" - "$tmp/trace.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert [r["tick"] for r in rows] == list(range(1, 37)), [r["tick"] for r in rows]
by = {r["tick"]: r for r in rows}
# The actions that reached both worlds.
assert all(by[t]["action"] == [1, 0] for t in range(1, 13)), [by[t]["action"] for t in range(1, 13)]
assert all(by[t]["action"] == [0, 1] for t in range(13, 19))
assert all(by[t]["action"] == [0, 0] for t in range(19, 37))
def moved(world, a, b, axis):
    pa, pb = by[a][world], by[b][world]
    assert pa[2] > 0 and pb[2] > 0, f"{world} pusher not found at tick {a} or {b}"
    return pb[axis] - pa[axis]
for world, least in (("true_pusher", 5.0), ("pred_pusher", 3.0)):
    dx = moved(world, 1, 12, 0)
    dy = moved(world, 13, 18, 1)
    rest = abs(moved(world, 20, 36, 0)) + abs(moved(world, 20, 36, 1))
    print(f"{world}: right {dx:+.1f} px, up {dy:+.1f} px, released {rest:.1f} px")
    assert dx > least, f"{world}: 'right' moved x by {dx:.1f} px"
    assert dy < -2.0, f"{world}: 'up' moved y by {dy:.1f} px"
    assert rest < 2.0, f"{world}: the pusher kept moving after release ({rest:.1f} px)"
PY
echo "viewer teleop ok"
