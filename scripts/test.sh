#!/usr/bin/env bash
# Runs every folio test: installs what is missing, builds three times (ASan+UBSan,
# clang, then the normal gcc build) and runs ctest; the ASan build also serves the
# allocation-failure run, the clang pass runs clang's static analyser over lib/
# and cgrpc/. The last lines are ctest's summary.
#
#   scripts/test.sh [ctest args...]      e.g. scripts/test.sh -R cgrpc
#
# FOLIO_TEST_SKIP_ASAN=1 skips the sanitizer pass (and the allocation-failure run
# that uses its build), FOLIO_TEST_SKIP_ALLOCFAIL=1 that run alone,
# FOLIO_TEST_SKIP_CLANG=1 the clang pass (for quick local runs).
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
    -DFOLIO_SANITIZE=address,undefined -DFOLIO_BUILD_BENCH=OFF -DFOLIO_ALLOC_FAIL=ON >/dev/null
  cmake --build build-asan -j "$jobs"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --test-dir build-asan -L asan --output-on-failure -j "$jobs" --timeout 300 "$@"
fi

# --- allocation-failure run (tests/alloc/torture.py) over the ASan+UBSan build ---
# Tests labelled allocfail are rerun with their Nth allocation failing, for every
# N (sampled past 200): each must pass or fail cleanly. ~2 min on 2 cores.
if [ "${FOLIO_TEST_SKIP_ASAN:-0}" != 1 ] && [ "${FOLIO_TEST_SKIP_ALLOCFAIL:-0}" != 1 ]; then
  echo "== allocation-failure run: unit tests labelled allocfail ==" >&2
  /usr/bin/python3 tests/alloc/torture.py build-asan -j "$jobs"
fi

# --- clang pass: -Werror build + unit tests, then the static analyser ---
# The warning set is cmake/FolioWarnings.cmake's (clang gets its own additions
# there). Bench and the service tests are left to the gcc build; the unit tests
# run because clang's code generation can expose UB that gcc's hides.
# scan-build re-analyses from clean every time (--clean-first): it reports only
# what it compiles, so an incremental run would pass over old findings.
# Cost (2 cores, after the first build): unit tests ~55 s, analysis ~2.5 min CPU.
if [ "${FOLIO_TEST_SKIP_CLANG:-0}" != 1 ]; then
  echo "== clang build (-Werror): unit tests ==" >&2
  cmake -S . -B build-clang "${gen[@]}" -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFOLIO_BUILD_BENCH=OFF >/dev/null
  cmake --build build-clang -j "$jobs"
  ctest --test-dir build-clang -L unit --output-on-failure -j "$jobs" --timeout 300 "$@"

  echo "== clang static analyser (scan-build) over lib/ (lib/pdf included) and cgrpc/ ==" >&2
  scan=(scan-build --use-cc=clang --use-c++=clang++ --status-bugs
        --exclude "$root/build-scan" -o "$root/build-scan/reports")
  "${scan[@]}" cmake -S . -B build-scan "${gen[@]}" -DCMAKE_BUILD_TYPE=Debug \
    -DFOLIO_BUILD_BENCH=OFF -DFOLIO_BUILD_TESTS=OFF >/dev/null
  "${scan[@]}" cmake --build build-scan -j "$jobs" --clean-first --target \
    folio_base folio_layout folio_render folio_pdf_profile folio_pdf folio_s3 folio_pg folio_redis folio_jobs \
    cgrpc protoc-gen-cgrpc
fi

# ---- mutation testing: the fast subset (tests/mutation/mutants.py fast=True) --
# Skipped when ctest args select a part of the suite (a filtered run is not CI).
# It builds its own copy (build-mutation), so it runs before the release build
# and ctest's summary stays the last lines of the run. A test that already
# fails unmutated would "catch" its mutants, but the release ctest below then
# fails the run anyway, so no separate baseline is taken here.
if [ "${FOLIO_TEST_SKIP_MUTATION:-0}" != 1 ] && [ $# = 0 ]; then
  echo "== mutation: the fast subset ==" >&2
  mutation_run --fast --no-baseline
fi
# ------------------------------------------------------------------------------

echo "== release build: every test ==" >&2
cmake -S . -B build "${gen[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$jobs"
ctest --test-dir build --output-on-failure -j "$jobs" --timeout 600 "$@"

