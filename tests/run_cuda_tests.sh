#!/usr/bin/env bash
# The "[cuda]" Catch2 tests (hidden from the per-layer ctest entries) as one ctest entry, so that
# every run's summary shows them: skipped (exit 77, ctest SKIP_RETURN_CODE) on a machine without a
# CUDA device, run on one with a device. On a device machine a test that reports it did not run
# ("not run": LibTorch without CUDA, or a renderer built without CUDA) fails the entry: a GPU that
# is present but untested must not look like a pass.
# usage: run_cuda_tests.sh TEST_BINARY...
set -u
((${#@})) || { echo "usage: run_cuda_tests.sh TEST_BINARY..."; exit 2; }
count=0
for exe in "$@"; do
  n=$("$exe" "[cuda]" --list-test-names-only 2>/dev/null | grep -c .)
  echo "$(basename "$exe"): $n [cuda] tests"
  count=$((count + n))
done
device=0
if [[ -e /dev/nvidiactl ]] || ls /dev/nvidia[0-9]* >/dev/null 2>&1; then device=1; fi
if command -v nvidia-smi >/dev/null && nvidia-smi -L 2>/dev/null | grep -q '^GPU'; then device=1; fi
if [[ ${PARALLAX_FORCE_NO_CUDA:-0} == 1 ]]; then device=0; fi  # to test the skip path itself
if ((device == 0)); then
  echo "SKIP: no CUDA device on this machine: $count [cuda] tests not run"
  exit 77
fi
rc=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for exe in "$@"; do
  echo "== $exe [cuda]"
  "$exe" "[cuda]" --durations yes 2>&1 | tee "$log"
  status=${PIPESTATUS[0]}
  if ((status != 0)); then
    echo "FAIL: $(basename "$exe") [cuda] exited $status"
    rc=1
  elif grep -q "not run" "$log"; then
    echo "FAIL: a CUDA device is present but $(basename "$exe") did not run its CUDA tests"
    rc=1
  fi
done
exit $rc
