#!/usr/bin/env bash
# Reruns the whole benchmark pack (bench/README.md's table) and keeps every
# output:
#
#   bench/run-all.sh [--quick] [--only NAME[,NAME...]] [--out DIR]
#       --quick   small sizes and few rounds: checks that every benchmark runs
#                 and gives rough figures in a fraction of the time (the
#                 published figures come from full runs)
#       --only    run only these folders (e.g. --only artifacts,pipeline)
#       --out     where the logs go (default build-results/<UTC time>/ in the
#                 repository, which git ignores like every build*/)
#
# Every folder bench/<name>/ with a run.sh is run, in name order, one at a
# time (each starts its own throwaway services), after one build of every
# target. Each prints its figures against its same-run baseline; the output of
# each goes to DIR/<name>.log and to the terminal. A benchmark that fails is
# reported at the end; the others still run. Never part of the test suite.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
quick=0 only='' out=''
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;
    --only) only=$2; shift ;;
    --out) out=$2; shift ;;
    -h | --help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run-all.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
out=${out:-$root/build-results/$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$out"
build=${FOLIO_BUILD_DIR:-$root/build}

# The arguments of a quick run, per folder (full runs use each one's defaults).
quick_args() {
  case "$1" in
    artifacts) echo "--big-mib 256 --small-mib 4 --rounds 2 --clients 20" ;;
    pipeline) echo "--smoke" ;;
    grpc) echo "--seconds 3 --rounds 1" ;;
    decode) echo "1000000 1" ;;
    jobs) echo "$build 2000" ;;
    *) # a benchmark added later: --quick if its header documents one
      grep -qs -- '--quick' "$root/bench/$1/run.sh" && echo "--quick" ;;
  esac
}

echo "run-all: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg); logs in $out" | tee "$out/machine.txt"
gen=()
command -v ninja >/dev/null 2>&1 && [ ! -f "$build/CMakeCache.txt" ] && gen=(-G Ninja)
cmake -S "$root" -B "$build" "${gen[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFOLIO_BUILD_BENCH=ON >/dev/null &&
  cmake --build "$build" -j 2 >"$out/build.log" 2>&1 || { echo "run-all: build failed, see $out/build.log" >&2; exit 1; }

failed=()
for dir in "$root"/bench/*/; do
  name=$(basename "$dir")
  [ -x "$dir/run.sh" ] || continue
  if [ -n "$only" ] && ! tr ',' '\n' <<<"$only" | grep -qx "$name"; then continue; fi
  args=()
  [ $quick = 1 ] && read -r -a args <<<"$(quick_args "$name")"
  extra=()
  # the end-to-end targets of issue 16 live next to the pipeline benchmark
  echo "== $name: run.sh ${args[*]} ($(date -u +%H:%M:%S), load $(cut -d' ' -f1-3 /proc/loadavg))" | tee -a "$out/summary.txt"
  FOLIO_BUILD_DIR=$build FOLIO_BENCH_NO_BUILD=1 "$dir/run.sh" "${args[@]}" 2>&1 | tee "$out/$name.log"
  [ "${PIPESTATUS[0]}" = 0 ] || failed+=("$name")
  if [ "$name" = pipeline ] && [ -x "$dir/e2e.sh" ]; then
    [ $quick = 1 ] && extra=(--quick)
    echo "== pipeline/e2e: e2e.sh ${extra[*]} ($(date -u +%H:%M:%S))" | tee -a "$out/summary.txt"
    FOLIO_BUILD_DIR=$build FOLIO_BENCH_NO_BUILD=1 "$dir/e2e.sh" "${extra[@]}" 2>&1 | tee "$out/pipeline-e2e.log"
    [ "${PIPESTATUS[0]}" = 0 ] || failed+=("pipeline/e2e")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "run-all: failed: ${failed[*]} (logs in $out)" | tee -a "$out/summary.txt"
  exit 1
fi
echo "run-all: every benchmark ran; logs in $out" | tee -a "$out/summary.txt"
