#!/usr/bin/env bash
# Every panel is non-blank: the viewer reports where it drew each panel (--panels-json, ImGui's
# item rectangles) and the test crops each from the window's screenshot and asks for content:
# at least 3 distinct colours and a spread of pixel values (a blank, black or one-colour panel
# fails). Two runs, as the env grid and the imagined futures share a tab: the first shows the env
# grid, the second imagines 4 futures (and Bullet's replay of them) at frame 10.
# usage: panels.sh PARALLAX_VIEW SOURCE_DIR PARALLAX
set -euo pipefail
view=${1:?parallax-view}; src=${2:?source dir}
py=${PARALLAX_TEST_PYTHON:-python3}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
command -v xvfb-run >/dev/null || { echo "xvfb-run missing (apt-get install xvfb): skipped"; exit 77; }
echo "0 mode resync 5" >"$tmp/a.txt"  # 24 ticks: 4 after the last resync, so error is not 0
printf '10 futures 4 random\n' >"$tmp/b.txt"
for run in a b; do
  xvfb-run -a -s "-screen 0 1280x720x24" "$view" --scene push --envs 4 --seed 2 --frames 24 \
    --input-script "$tmp/$run.txt" --panels-json "$tmp/$run.json" --screenshot "$tmp/$run.png" \
    >"$tmp/$run.out"
done
"$py" - "$tmp" <<'PY'
import json, sys
import numpy as np
from skimage import io
tmp = sys.argv[1]
want = {"a": ["true", "predicted", "error", "error scale", "PSNR per tick", "PSNR vs horizon",
              "pos. error vs horizon (px)", "reward true / pred", "returns (true, pred)",
              "frame time", "env 0", "env 1", "env 2", "env 3"],
        "b": ["true", "predicted", "error", "futures"]}
for run, names in want.items():
    img = io.imread(f"{tmp}/{run}.png")[:, :, :3]
    rects = {r["name"]: r["rect"] for r in json.load(open(f"{tmp}/{run}.json"))}
    for name in names:
        assert name in rects, f"run {run}: no panel '{name}' (have {sorted(rects)})"
        x0, y0, x1, y1 = (int(round(v)) for v in rects[name])
        crop = img[max(y0, 0):y1, max(x0, 0):x1].reshape(-1, 3)
        colours = len(np.unique(crop, axis=0))
        spread = float(crop.astype(float).std())
        print(f"{run} {name:28s} {x1 - x0:4d}x{y1 - y0:<4d} colours {colours:5d} std {spread:6.1f}")
        assert crop.size > 0 and colours >= 3 and spread > 2.0, f"run {run}: '{name}' is blank"
PY
echo "viewer panels ok"
