#!/usr/bin/env bash
# `parallax render`: PNG output and size, ids image, determinism per seed, --step moving the state,
# --json, and one-line errors with the right exit codes. Usage: render.sh PARALLAX SOURCE_DIR
set -uo pipefail
exe=${1:?usage: render.sh PARALLAX SOURCE_DIR}
src=${2:?usage: render.sh PARALLAX SOURCE_DIR}
py=${PARALLAX_TEST_PYTHON:-python3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# PNG header: signature, then IHDR width, height (big endian), bit depth, colour type.
png_info() {  # prints "W H colortype"
  "$py" - "$1" <<'PY'
import struct, sys
b = open(sys.argv[1], "rb").read(33)
assert b[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
w, h, depth, ctype = struct.unpack(">IIBB", b[16:26])
print(w, h, ctype)
PY
}

# Default size is the scene camera's (push: 64x64), RGB (colour type 2).
"$exe" render --scene push --seed 1 --out "$tmp/a.png" >/dev/null || fail "render push"
[[ $(png_info "$tmp/a.png") == "64 64 2" ]] || fail "push frame is $(png_info "$tmp/a.png"), want 64 64 2"

# Explicit non-square size, ids as a grey PNG (colour type 0) of the same size.
"$exe" render --scene tower --seed 2 --width 100 --height 40 --spp 4 --ids "$tmp/ids.png" \
  --out "$tmp/b.png" >/dev/null || fail "render tower 100x40"
[[ $(png_info "$tmp/b.png") == "100 40 2" ]] || fail "tower frame is $(png_info "$tmp/b.png")"
[[ $(png_info "$tmp/ids.png") == "100 40 0" ]] || fail "ids image is $(png_info "$tmp/ids.png")"

# Same seed, same bytes; another seed, another frame (push randomises the cube and the goal).
"$exe" render --scene push --seed 1 --out "$tmp/a2.png" >/dev/null || fail "render push again"
cmp -s "$tmp/a.png" "$tmp/a2.png" || fail "same seed gave different frames"
"$exe" render --scene push --seed 2 --out "$tmp/c.png" >/dev/null || fail "render push seed 2"
cmp -s "$tmp/a.png" "$tmp/c.png" && fail "seeds 1 and 2 gave the same frame"

# --step: a cube dropped from 0.3 m has landed after 10 control steps (1/3 s), so the frame
# changes; the scene is push.json with the cube's randomisation removed and its z raised.
"$py" - "$src/assets/scenes/push.json" "$tmp/drop.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
for b in s["bodies"]:
    if b["name"] == "cube":
        b.pop("randomize", None)
        b["position"] = [0.0, 0.0, 0.3]
json.dump(s, open(sys.argv[2], "w"))
PY
"$exe" render --scene "$tmp/drop.json" --seed 0 --out "$tmp/s0.png" >/dev/null || fail "step 0"
out=$("$exe" render --scene "$tmp/drop.json" --seed 0 --step 10 --out "$tmp/s10.png" --json) ||
  fail "step 10"
cmp -s "$tmp/s0.png" "$tmp/s10.png" && fail "--step 10 did not change the frame of a falling cube"
"$py" -c 'import json,sys; j=json.loads(sys.argv[1]); assert j["step"]==10 and j["width"]==64, j' \
  "$out" || fail "--json line: $out"

# Errors: one line "parallax: error: ...", exit 1 for bad files, 2 for bad flag combinations.
err=$("$exe" render --scene no_such_scene --seed 0 --out "$tmp/x.png" 2>&1 >/dev/null); rc=$?
[[ $rc == 1 && $err == "parallax: error: "*no_such_scene* ]] || fail "unknown scene: rc $rc, '$err'"
err=$("$exe" render --scene push --seed 0 --out "$tmp/missing/dir/x.png" 2>&1 >/dev/null); rc=$?
[[ $rc == 1 && $err == *"$tmp/missing/dir/x.png"* ]] || fail "unwritable output: rc $rc, '$err'"
"$exe" render --scene push --seed 0 --out "$tmp/x.png" --ids "$tmp/x.png" >/dev/null 2>&1
[[ $? == 2 ]] || fail "--ids equal to --out must exit 2"
"$exe" render --scene push --seed 0 --spp 3 --out "$tmp/x.png" >/dev/null 2>&1
[[ $? == 2 ]] || fail "--spp 3 must exit 2"
"$exe" render --scene push --seed 0 --width 8 --out "$tmp/x.png" >/dev/null 2>&1
[[ $? == 2 ]] || fail "--width 8 must exit 2"
[[ -e $tmp/x.png ]] && fail "a failed render left $tmp/x.png behind"
echo "render.sh: ok"
