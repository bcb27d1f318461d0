#!/usr/bin/env bash
# parallax collect: writes a dataset that h5py reads with the Minari layout (shapes, bool flags),
# --resume tops it up to the requested count, and bad flags/files give one clear error line.
# usage: collect.sh PARALLAX_EXE SOURCE_DIR
set -u
exe=$1
src=$2
py=${PARALLAX_TEST_PYTHON:-python3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# A small noisy-expert dataset, with the JSON summary.
"$exe" collect --scene push --agent noisy --episodes 5 --envs 3 --seed 7 --threads 2 \
  --out "$tmp/ds" --json >"$tmp/out.json" 2>"$tmp/err.txt" || fail "collect failed: $(cat "$tmp/err.txt")"
grep -q '"episodes":5' "$tmp/out.json" || fail "summary: $(cat "$tmp/out.json")"
grep -q 'episodes/s' "$tmp/err.txt" || fail "no progress line on stderr: $(cat "$tmp/err.txt")"
grep -q 'frames/s' "$tmp/err.txt" || fail "progress line lacks frames/s"
grep -q 'ETA' "$tmp/err.txt" || fail "progress line lacks ETA"
"$py" "$src/tests/python/check_dataset.py" "$tmp/ds" 5 || fail "h5py check of the new dataset"

# --resume continues to the requested count (new seeds, old episodes unchanged).
"$py" - "$tmp/ds" >"$tmp/h1.txt" <<'PY' || fail "hash"
import sys, h5py, hashlib
f = h5py.File(sys.argv[1] + "/data/main_data.hdf5", "r")
for i in range(5):
    print(hashlib.sha1(f[f"episode_{i}/observations"][()].tobytes()).hexdigest())
PY
"$exe" collect --scene push --agent noisy --episodes 8 --envs 3 --seed 7 --threads 2 \
  --out "$tmp/ds" --resume --quiet >/dev/null || fail "resume failed"
"$py" "$src/tests/python/check_dataset.py" "$tmp/ds" 8 || fail "h5py check after resume"
"$py" - "$tmp/ds" >"$tmp/h2.txt" <<'PY' || fail "hash"
import sys, h5py, hashlib
f = h5py.File(sys.argv[1] + "/data/main_data.hdf5", "r")
for i in range(5):
    print(hashlib.sha1(f[f"episode_{i}/observations"][()].tobytes()).hexdigest())
PY
cmp -s "$tmp/h1.txt" "$tmp/h2.txt" || fail "resume changed the episodes already stored"
# check_dataset.py does not read a file behind a live undo journal (exit 3: a writer killed inside
# commit 8, the count in the header equals metadata.json's) and ignores a stale one (commit 7).
journal() {  # journal COUNT: a header in docs/store.md's layout (magic, then the count, int64 LE)
  "$py" -c 'import sys; open(sys.argv[1], "wb").write(b"PXUNDO01" + int(sys.argv[2]).to_bytes(8, "little"))' \
    "$tmp/ds/data/main_data.hdf5.undo" "$1"
}
journal 8
"$py" "$src/tests/python/check_dataset.py" "$tmp/ds" 8 >"$tmp/check.txt"
[ $? -eq 3 ] && grep -q "live undo journal" "$tmp/check.txt" ||
  fail "check_dataset read a file behind a live journal: $(cat "$tmp/check.txt")"
journal 7
"$py" "$src/tests/python/check_dataset.py" "$tmp/ds" 8 >/dev/null || fail "check_dataset refused a stale journal"
rm -f "$tmp/ds/data/main_data.hdf5.undo"
# Resuming a complete dataset is a no-op.
"$exe" collect --scene push --agent noisy --episodes 8 --envs 3 --seed 7 --out "$tmp/ds" --resume \
  2>"$tmp/err.txt" >/dev/null || fail "resume of a complete dataset failed"
grep -q "already holds 8 episodes" "$tmp/err.txt" || fail "no-op resume message: $(cat "$tmp/err.txt")"

# Errors: existing dataset without --resume (usage, exit 2), resume with another agent (exit 1),
# unknown agent (CLI11 validation), expert for a scene without one (exit 2).
"$exe" collect --episodes 9 --out "$tmp/ds" >/dev/null 2>"$tmp/err.txt"
[ $? -eq 2 ] || fail "existing dataset without --resume should exit 2"
grep -q "parallax: error: .*already exists here (pass --resume" "$tmp/err.txt" || fail "$(cat "$tmp/err.txt")"
"$exe" collect --scene push --agent random --episodes 9 --out "$tmp/ds" --resume >/dev/null 2>"$tmp/err.txt"
[ $? -eq 1 ] || fail "resume with another agent should exit 1"
grep -q "metadata.json: dataset_id" "$tmp/err.txt" || fail "mismatch message: $(cat "$tmp/err.txt")"
"$exe" collect --agent bogus --episodes 1 --out "$tmp/x" >/dev/null 2>"$tmp/err.txt" && fail "bogus agent accepted"
grep -q "bogus" "$tmp/err.txt" || fail "bogus agent message: $(cat "$tmp/err.txt")"
sed 's/pusher/paddle/g' "$src/assets/scenes/push.json" >"$tmp/paddle.json"
"$exe" collect --scene "$tmp/paddle.json" --agent expert --episodes 1 --out "$tmp/y" >/dev/null 2>"$tmp/err.txt"
[ $? -eq 2 ] || fail "expert for a scene without one should exit 2"
grep -q 'has no scripted expert' "$tmp/err.txt" || fail "no-expert message: $(cat "$tmp/err.txt")"
[ ! -e "$tmp/y" ] || fail "a refused collect left a folder behind"
# A corrupt dataset: resume names the file.
printf 'garbage' >"$tmp/ds/data/main_data.hdf5"
"$exe" collect --scene push --agent noisy --episodes 9 --out "$tmp/ds" --resume >/dev/null 2>"$tmp/err.txt"
[ $? -eq 1 ] || fail "corrupt dataset should exit 1"
grep -q "main_data.hdf5" "$tmp/err.txt" || fail "corrupt message: $(cat "$tmp/err.txt")"
echo "collect: OK"
