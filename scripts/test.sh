#!/usr/bin/env bash
# Runs every folio test: installs what is missing, builds twice (ASan+UBSan, then
# the normal build) and runs ctest. The last lines are ctest's summary.
#
#   scripts/test.sh [ctest args...]      e.g. scripts/test.sh -R cgrpc
#
# FOLIO_TEST_SKIP_ASAN=1 skips the sanitizer pass (for quick local runs).
#
#   scripts/test.sh --mutation [run.py args...]   e.g. --only 'fence'
#       only the mutation run: every mutant of tests/mutation/mutants.py
#       (see tests/mutation/README.md); exit 1 if one survives.
# After ctest, the fast mutant subset runs too (FOLIO_TEST_SKIP_MUTATION=1
# skips it): a surviving mutant fails the run like a failing test.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
"$root/scripts/deps.sh" test

# ---- mutation testing (tests/mutation) --------------------------------------
mutation_run() { /usr/bin/python3 "$root/tests/mutation/run.py" "$@"; }
if [ "${1:-}" = --mutation ]; then
  shift
  mutation_run "$@"
  exit $?
fi
# ------------------------------------------------------------------------------

jobs=$(nproc 2>/dev/null || echo 2)
gen=()
command -v ninja >/dev/null 2>&1 && gen=(-G Ninja)

if [ "${FOLIO_TEST_SKIP_ASAN:-0}" != 1 ]; then
  echo "== ASan+UBSan build: unit and in-process tests ==" >&2
  cmake -S . -B build-asan "${gen[@]}" -DCMAKE_BUILD_TYPE=Debug \
    -DFOLIO_SANITIZE=address,undefined -DFOLIO_BUILD_BENCH=OFF >/dev/null
  cmake --build build-asan -j "$jobs"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --test-dir build-asan -L asan --output-on-failure -j "$jobs" --timeout 300 "$@"
fi

echo "== release build: every test ==" >&2
cmake -S . -B build "${gen[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$jobs"
ctest --test-dir build --output-on-failure -j "$jobs" --timeout 600 "$@"

# ---- mutation testing: the fast subset (tests/mutation/mutants.py fast=True) --
# Skipped when ctest args select a part of the suite (a filtered run is not CI).
if [ "${FOLIO_TEST_SKIP_MUTATION:-0}" != 1 ] && [ $# = 0 ]; then
  echo "== mutation: the fast subset ==" >&2
  mutation_run --fast --no-baseline
fi
# ------------------------------------------------------------------------------
