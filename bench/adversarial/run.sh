#!/usr/bin/env bash
# bench/adversarial: for each attack of issue 10 (decompression bombs, a
# memory-hungry document, unbounded text fitting, stalled StreamArtifact
# readers, a submit flood), the other tenant's p50/p99 submit, submit→done and
# download latency as a ratio of an idle phase of the same run (target ≤ 2×),
# and the attacker's cost to the service (CPU-s, peak RSS). Its own stack:
# PostgreSQL, Redis, Ceph RGW, one folio-server, one folio-worker with two
# render processes. Builds what it needs first (release build in build/, or
# $FOLIO_BUILD_DIR).
#
#   bench/adversarial/run.sh [--seconds 20] [--only bomb_pixels,flood,...]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${FOLIO_BUILD_DIR:-$root/build}
gen=()
command -v ninja >/dev/null 2>&1 && [ ! -f "$build/CMakeCache.txt" ] && gen=(-G Ninja)
cmake -S "$root" -B "$build" "${gen[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j 2 --target folio-server folio-worker bench_adversarial >&2
echo "bench/adversarial: load before: $(cut -d' ' -f1-3 /proc/loadavg)"
"$root/scripts/stack.sh" run pg,redis,s3 -- "$build/bench/adversarial/bench_adversarial" \
  "$build/server/folio-server" "$build/worker/folio-worker" "$@"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
