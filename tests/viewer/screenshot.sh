#!/usr/bin/env bash
# parallax-view under Xvfb: runs 40 frames, writes a screenshot, and the screenshot is not blank:
# it has the dark background, the ImGui window, and many distinct colours from the rendered frames.
set -euo pipefail
view=${1:?parallax-view}; src=${2:?source dir}
py=${PARALLAX_TEST_PYTHON:-python3}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
command -v xvfb-run >/dev/null || { echo "xvfb-run missing (apt-get install xvfb)"; exit 1; }
xvfb-run -a -s "-screen 0 1280x720x24" "$view" --frames 40 --envs 2 --screenshot "$tmp/shot.png"
test -s "$tmp/shot.png"
"$py" - "$tmp/shot.png" <<'PY'
import sys
import numpy as np
from skimage import io
img = io.imread(sys.argv[1])
print("screenshot", img.shape, img.dtype)
assert img.shape == (720, 1280, 3), img.shape
colours = len(np.unique(img.reshape(-1, 3), axis=0))
print("distinct colours:", colours, "std:", float(img.std()))
assert colours > 200, f"screenshot looks blank: only {colours} colours"
assert img.std() > 10, "screenshot has almost no contrast"
PY
# --screenshot without --frames is a usage error, not a hang
if "$view" --screenshot "$tmp/x.png" 2>"$tmp/err"; then echo "expected failure"; exit 1; fi
grep -q -- "--frames" "$tmp/err"
echo "viewer screenshot ok"
