#!/usr/bin/env bash
# Group commit benchmark: a throwaway PostgreSQL with fsync ON (commits cost a
# real flush), the schema migrated, then bench_submit's three ways of
# submitting. Usage: bench/jobs/run.sh [BUILD_DIR] [N]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
n=${2:-2000}
[ -x "$build/bench/jobs/bench_submit" ] || { echo "build first: cmake --build $build --target bench_submit" >&2; exit 1; }
PG_FSYNC=on exec "$root/scripts/stack.sh" run pg -- "$build/bench/jobs/bench_submit" "$n"
