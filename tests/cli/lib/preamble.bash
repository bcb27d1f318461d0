# The common head of front-end test scripts (tests/cli/*.sh), sourced as
#   source "$(dirname "${BASH_SOURCE[0]}")/lib/preamble.bash" "$@"
# Sets exe (the parallax executable, $1), src (the source tree, $2), py (the test Python), tmp
# (a temporary folder, removed on exit) and fail MESSAGE (prints "FAIL: MESSAGE", exits 1).
set -u
exe=$1; src=${2:-}
py=${PARALLAX_TEST_PYTHON:-python3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
