#!/usr/bin/env bash
# The RSSM against an independent PyTorch reference: the worldmodel test binary's hidden
# "[reference]" test dumps weights, inputs and the library's results; rssm_reference.py recomputes
# them in Python and compares.
# usage: rssm_reference.sh WORLDMODEL_TEST_BINARY PYTHON
set -u
exe=${1:?usage: rssm_reference.sh WORLDMODEL_TEST_BINARY PYTHON}
py=${2:?usage: rssm_reference.sh WORLDMODEL_TEST_BINARY PYTHON}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$py" -c "import torch" 2>/dev/null || { echo "FAIL: $py cannot import torch"; exit 1; }
PARALLAX_REFERENCE_OUT="$tmp/dump.pt" "$exe" "[reference]" >"$tmp/dump.log" 2>&1 ||
  { cat "$tmp/dump.log"; echo "FAIL: the C++ dump failed"; exit 1; }
[ -s "$tmp/dump.pt" ] || { cat "$tmp/dump.log"; echo "FAIL: no dump written"; exit 1; }
"$py" "$here/rssm_reference.py" "$tmp/dump.pt"
