#!/usr/bin/env bash
# Builds folio at a baseline commit, for benchmarks that compare "today"
# against an earlier folio in the same run on the same machine, and prints
# the baseline's build directory (its binaries: server/folio-server,
# worker/folio-worker, client/folio).
#
#   bench/baseline.sh [COMMIT] [TARGET...]
#       COMMIT   default $FOLIO_BASELINE, else d4253ca (the tree before
#                issue 16's performance work)
#       TARGET   default: folio-server folio-worker folio
#
# The commit is exported with `git archive` (no worktree is registered, the
# repository is not touched) into $FOLIO_BASELINE_DIR/<commit>/src (default
# build-baseline/ in the repository, ignored by git) and built there in
# RelWithDebInfo, with ccache when it is installed. A second run reuses the
# export and the build. Progress goes to stderr; stdout is the build dir.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
commit=${1:-${FOLIO_BASELINE:-d4253ca}}
[ $# -gt 0 ] && shift
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(folio-server folio-worker folio)
full=$(git -C "$root" rev-parse --verify "$commit^{commit}")
dir=${FOLIO_BASELINE_DIR:-$root/build-baseline}/${full:0:12}
if [ ! -f "$dir/src/CMakeLists.txt" ]; then
  mkdir -p "$dir/src.tmp"
  git -C "$root" archive "$full" | tar -x -C "$dir/src.tmp"
  rm -rf "$dir/src"
  mv "$dir/src.tmp" "$dir/src"
fi
launcher=()
if command -v ccache >/dev/null 2>&1; then
  launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  # hits across directories: paths relative to the export, cwd not hashed
  export CCACHE_BASEDIR=$dir CCACHE_NOHASHDIR=1
fi
gen=()
command -v ninja >/dev/null 2>&1 && [ ! -f "$dir/build/CMakeCache.txt" ] && gen=(-G Ninja)
echo "baseline.sh: folio at ${full:0:12} in $dir/build" >&2
cmake -S "$dir/src" -B "$dir/build" "${gen[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DFOLIO_BUILD_BENCH=OFF "${launcher[@]}" >/dev/null
cmake --build "$dir/build" -j 2 --target "${targets[@]}" >&2
echo "$dir/build"
