#!/usr/bin/env bash
# Catch2 reads ',' in a test name as "or" and ctest splits names at ';': such a test would be
# matched by nothing and silently pass without running. Every TEST_CASE name must avoid both.
set -u
root=${1:?usage: check_test_names.sh SOURCE_DIR}
bad=$(grep -rnE 'TEST_CASE\("[^"]*[,;\[][^"]*"' "$root/tests" --include='*.cpp' || true)
if [[ -n $bad ]]; then echo "test names with ',' ';' or '[' (ctest cannot run them):"; echo "$bad"; exit 1; fi
echo "test names ok"
