#!/usr/bin/env bash
# `parallax demo --mp4 FILE` writes the viewer's side-by-side video without a window: ffprobe
# decodes it (H.264, one frame per tick, the scene's 30 fps) at the size media/side_by_side.hpp
# lays out for 64x64 frames (3 * 256 + 2 * 8 = 784 by 256 + 4 + 8 = 268), and its frame t shows
# env 0's true and predicted frames of tick t + 1 as the demo's strip.png has them (within the
# H.264 round trip). An unwritable path fails with one line and leaves nothing behind.
set -euo pipefail
exe=${1:?parallax}; src=${2:?source dir}
py=${PARALLAX_TEST_PYTHON:-python3}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
command -v ffprobe >/dev/null || { echo "ffprobe missing (apt-get install ffmpeg): skipped"; exit 77; }
"$exe" demo --envs 2 --ticks 12 --seed 5 --threads 2 --out "$tmp/demo" --mp4 "$tmp/demo.mp4" >/dev/null
test ! -e "$tmp/demo.mp4.part"
probe=$(ffprobe -v error -count_frames -select_streams v:0 \
  -show_entries stream=codec_name,width,height,r_frame_rate,nb_read_frames -of csv=p=0 "$tmp/demo.mp4")
echo "ffprobe: $probe"
[[ $probe == "h264,784,268,30/1,12" ]] || { echo "unexpected stream: $probe"; exit 1; }
ffmpeg -v error -i "$tmp/demo.mp4" -vf "select=eq(n\,6)" -frames:v 1 "$tmp/f6.png"
"$py" - "$tmp" <<'PY'
import sys
import numpy as np
from skimage import io
tmp = sys.argv[1]
f = io.imread(f"{tmp}/f6.png")[:, :, :3].astype(float)
strip = io.imread(f"{tmp}/demo/strip.png")[:, :, :3].astype(float)
def panel(x0):  # the 256x256 panel at x0, back to 64x64
    return f[:256, x0:x0 + 256].reshape(64, 4, 64, 4, 3).mean(axis=(1, 3))
true7, pred7 = strip[0:64, 6 * 64:7 * 64], strip[64:128, 6 * 64:7 * 64]
for name, x0, ref, other in (("true", 0, true7, strip[0:64, 0:64]),
                             ("predicted", 264, pred7, strip[64:128, 0:64])):
    d, d_other = np.abs(panel(x0) - ref).mean(), np.abs(panel(x0) - other).mean()
    print(f"{name}: mean |video - strip| tick 7 {d:.2f}, tick 1 {d_other:.2f}")
    assert d < 3.0, (name, d)
    if np.abs(ref - other).mean() > 2.0:  # the ticks look different: the video must tell them apart
        assert d_other > d + 0.5, (name, d, d_other)
PY
if "$exe" demo --ticks 2 --out "$tmp/d2" --mp4 /nonexistent-dir/x.mp4 2>"$tmp/err"; then exit 1; fi
cat "$tmp/err"
[[ $(wc -l <"$tmp/err") == 1 ]] && grep -q "nonexistent-dir/x.mp4" "$tmp/err"
echo "demo --mp4 ok"
