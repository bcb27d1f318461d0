#!/usr/bin/env bash
# Crash safety of `parallax collect`: killed with SIGKILL at several moments, it always leaves a
# dataset that h5py reads (every committed episode intact, unchanged by later runs), and
# --resume continues it to the requested count. A kill inside a commit (its undo journal live,
# check_dataset.py exit 3) leaves a file only parallax reads until the next --resume rolls it back
# (docs/store.md, "Crash safety"): that round is checked after the next one.
# usage: collect_kill.sh PARALLAX_EXE SOURCE_DIR
set -u
exe=$1
src=$2
py=${PARALLAX_TEST_PYTHON:-python3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
# Enough episodes that four kills land before the end on a fast machine too: CI's runner
# collected 12 episodes in 0.4 s, and with 80 wanted its fourth kill came after the last one.
want=320
args=(collect --scene push --agent random --episodes $want --envs 4 --seed 11 --threads 2
      --out "$tmp/ds" --quiet)

hashes() {  # sha1 of every committed episode's observations, one per line
  "$py" - "$1" <<'PY'
import sys, json, h5py, hashlib
d = sys.argv[1] + "/data/"
n = json.load(open(d + "metadata.json"))["total_episodes"]
with h5py.File(d + "main_data.hdf5", "r") as f:
    for i in range(n):
        print(hashlib.sha1(f[f"episode_{i}/observations"][()].tobytes()).hexdigest())
PY
}

: >"$tmp/prev.txt"
committed() {  # episodes metadata.json counts (0 if none yet)
  grep -o '"total_episodes":[0-9]*' "$tmp/ds/data/metadata.json" 2>/dev/null | cut -d: -f2 || echo 0
}

# Round 0 is killed during start-up; the others once they committed a new episode, plus a
# random 0..0.1 s, so the kill lands anywhere in the writing of the next episodes.
killed=0
for round in 0 1 2 3 4; do
  if [ -e "$tmp/ds/data/metadata.json" ]; then resume=--resume; else resume=; fi
  before=$(committed)
  before=${before:-0}
  "$exe" "${args[@]}" $resume &
  pid=$!
  if [ "$round" -eq 0 ]; then
    sleep 0.05
  else
    for _ in $(seq 600); do
      now=$(committed)
      [ "${now:-0}" -gt "$before" ] && break
      sleep 0.05
    done
    sleep "$(printf '0.%03d' $((RANDOM % 100)))"
  fi
  delay="round $round"
  kill -9 "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  [ $? -eq 137 ] && killed=$((killed + 1))
  [ -e "$tmp/ds/data/metadata.json" ] || continue  # killed before the dataset was created
  "$py" "$src/tests/python/check_dataset.py" "$tmp/ds" auto >"$tmp/check.txt"
  rc=$?
  if [ $rc -eq 3 ]; then
    echo "killed in ${delay}: inside a commit (journal live), checked after the next resume"
    continue
  fi
  [ $rc -eq 0 ] || fail "after kill in ${delay}: $(cat "$tmp/check.txt")"
  hashes "$tmp/ds" >"$tmp/now.txt" || fail "h5py cannot read the dataset after kill in ${delay}"
  # Episodes committed before stay byte-identical.
  head -n "$(wc -l <"$tmp/prev.txt")" "$tmp/now.txt" | cmp -s - "$tmp/prev.txt" ||
    fail "episodes committed earlier changed after kill in ${delay}"
  cp "$tmp/now.txt" "$tmp/prev.txt"
  echo "killed in ${delay}: $(wc -l <"$tmp/now.txt") episodes committed"
done
committed=$(wc -l <"$tmp/prev.txt")
[ "$killed" -ge 3 ] && [ "$committed" -gt 0 ] && [ "$committed" -lt $want ] ||
  fail "the kills did not land mid-collection ($killed killed, $committed committed): retune"
"$exe" "${args[@]}" --resume >/dev/null || fail "final resume failed"
"$py" "$src/tests/python/check_dataset.py" "$tmp/ds" $want || fail "final dataset"
hashes "$tmp/ds" >"$tmp/now.txt" || fail "h5py cannot read the final dataset"
head -n "$(wc -l <"$tmp/prev.txt")" "$tmp/now.txt" | cmp -s - "$tmp/prev.txt" ||
  fail "the final resume changed committed episodes"
echo "collect_kill: OK"
