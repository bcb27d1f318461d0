#!/usr/bin/env bash
# Headless recording: `--record out.mp4 --frames N` writes an H.264 MP4 that ffprobe decodes with
# N frames (one per tick) of the side-by-side view's size, and its left panel is the true frame:
# on tests/viewer/still_scene.json (actions move nothing visible) video frame 7 shows tick 8,
# which `parallax render --step 8` draws independently; tick 4 is measurably further off.
# Size, from media/side_by_side.hpp's layout for 64x64 frames and the defaults (scale 4, gap 8):
# width 3 * 256 + 2 * 8 = 784, height 256 + 8 / 2 + max(4, 2 * 4) = 268.
# usage: record.sh PARALLAX_VIEW SOURCE_DIR PARALLAX
set -euo pipefail
view=${1:?parallax-view}; src=${2:?source dir}; exe=${3:?parallax}
py=${PARALLAX_TEST_PYTHON:-python3}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
command -v xvfb-run >/dev/null || { echo "xvfb-run missing (apt-get install xvfb): skipped"; exit 77; }
command -v ffprobe >/dev/null || { echo "ffprobe missing (apt-get install ffmpeg): skipped"; exit 77; }
scene="$src/tests/viewer/still_scene.json"
xvfb-run -a -s "-screen 0 1280x720x24" "$view" --scene "$scene" --envs 2 --seed 3 --frames 30 \
  --record "$tmp/out.mp4" | tee "$tmp/out.txt"
grep -q "recorded 30 frames to $tmp/out.mp4" "$tmp/out.txt"
test ! -e "$tmp/out.mp4.part"
probe=$(ffprobe -v error -count_frames -select_streams v:0 \
  -show_entries stream=codec_name,width,height,nb_read_frames,r_frame_rate -of csv=p=0 "$tmp/out.mp4")
echo "ffprobe: $probe"
[[ $probe == "h264,784,268,30/1,30" ]] || { echo "unexpected stream: $probe"; exit 1; }
ffmpeg -v error -i "$tmp/out.mp4" -vf "select=eq(n\,7)" -frames:v 1 "$tmp/f7.png"
"$exe" render --scene "$scene" --seed 3 --step 8 --out "$tmp/r8.png" >/dev/null
"$exe" render --scene "$scene" --seed 3 --step 4 --out "$tmp/r4.png" >/dev/null
"$py" - "$tmp" <<'PY'
import sys
import numpy as np
from skimage import io
tmp = sys.argv[1]
f = io.imread(f"{tmp}/f7.png")[:, :, :3].astype(float)
left = f[:256, :256].reshape(64, 4, 64, 4, 3).mean(axis=(1, 3))  # back to 64x64
d8 = np.abs(left - io.imread(f"{tmp}/r8.png")[:, :, :3]).mean()
d4 = np.abs(left - io.imread(f"{tmp}/r4.png")[:, :, :3]).mean()
print(f"mean |video - render|: tick 8 {d8:.2f}, tick 4 {d4:.2f}")
assert d8 < 3.0, d8
assert d4 > d8 + 0.5, (d4, d8)
PY
# --record without --frames is a usage error, not a hang.
if "$view" --record "$tmp/x.mp4" 2>"$tmp/err"; then echo "expected failure"; exit 1; fi
grep -q -- "--frames" "$tmp/err"
echo "viewer record ok"
