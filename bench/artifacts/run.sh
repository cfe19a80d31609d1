#!/usr/bin/env bash
# bench/artifacts: StreamArtifact of a 1 GiB artifact to one client vs curl
# fetching the same object straight from the same RGW (presigned URL), same
# run, a few rounds; then 200 concurrent StreamArtifact clients of a 20 MiB
# artifact. Its own stack: PostgreSQL, Redis, Ceph RGW with a FILE-BACKED OSD
# (bluestore on a sparse file; OBJECTSTORE=filestore for a directory store),
# folio-server. Builds what it needs first (release build in build/, or
# $FOLIO_BUILD_DIR).
#
#   bench/artifacts/run.sh [bench_artifacts options]
#       --big-mib 1024 --small-mib 20 --rounds 3 --clients 200
#       --chunks 65536,1048576   (StreamArtifact chunk sizes to measure)
#       --baseline-server PATH   (an earlier folio-server: CPU per GiB of both)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${FOLIO_BUILD_DIR:-$root/build}
gen=()
command -v ninja >/dev/null 2>&1 && [ ! -f "$build/CMakeCache.txt" ] && gen=(-G Ninja)
command -v curl >/dev/null || { echo "run.sh: curl missing" >&2; exit 1; }

cmake -S "$root" -B "$build" "${gen[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j 2 --target folio-server bench_artifacts >&2

store=${OBJECTSTORE:-bluestore}
case "$store" in
  bluestore|filestore) ;;
  *) echo "run.sh: OBJECTSTORE=$store: this benchmark wants a file-backed store (bluestore|filestore)" >&2; exit 2 ;;
esac
echo "bench/artifacts: $(nproc) CPUs; load before: $(cut -d' ' -f1-3 /proc/loadavg); RGW object store: $store"
OBJECTSTORE=$store "$root/scripts/stack.sh" run pg,redis,s3 -- \
  "$build/bench/artifacts/bench_artifacts" --server "$build/server/folio-server" "$@"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
