#!/usr/bin/env bash
# A dataset written by `parallax collect` opens in minari.MinariDataset (pointed at DIR/data, the
# folder holding metadata.json) and iterates its episodes. Skipped (77), never passed, when the
# minari package is not installed in the test python.
# usage: collect_minari.sh PARALLAX_EXE SOURCE_DIR
set -u
exe=$1
src=$2
py=${PARALLAX_TEST_PYTHON:-python3}
if ! "$py" -c "import minari" 2>/dev/null; then
  echo "SKIP: minari is not importable by $py (bootstrap installs it where PyPI is reachable)"
  exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$exe" collect --scene push --agent random --episodes 4 --envs 4 --seed 3 --threads 2 \
  --out "$tmp/ds" --quiet >/dev/null || { echo "FAIL: collect"; exit 1; }
"$py" "$src/tests/python/check_dataset.py" "$tmp/ds" 4 --minari
