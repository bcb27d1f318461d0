#!/usr/bin/env bash
# Every C++/CUDA source tracked by git matches the checked-in .clang-format.
set -u
root=${1:?usage: check_format.sh SOURCE_DIR}
cd "$root" || exit 1
command -v clang-format >/dev/null || { echo "clang-format missing (scripts/bootstrap installs it)"; exit 1; }
mapfile -t files < <(git ls-files '*.cpp' '*.hpp' '*.cu' '*.h' 2>/dev/null ||
                     find sim worldmodel agents cli viewer tests bench -name '*.[ch]pp' -o -name '*.cu')
clang-format --dry-run --Werror "${files[@]}" || { echo "run: clang-format -i \$(git ls-files '*.cpp' '*.hpp' '*.cu' '*.h')"; exit 1; }
echo "format ok (${#files[@]} files)"
