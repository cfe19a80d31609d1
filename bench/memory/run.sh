#!/usr/bin/env bash
# bench/memory: does a render process's RSS stay flat over many jobs?
#
#   bench/memory/run.sh [BUILD_DIR] [JOBS=10000] [DPI=150]
#
# Runs bench_render_memory: the render calls folio-worker's render process
# makes for each one-page PDF+PNG job (decode, PDF, PNG with the process's
# render context), JOBS times, each job's text different, sampling RSS; it
# prints RSS every 2,000 jobs and the slope after the warm-up in KiB per
# 1,000 jobs (see bench_memory.c for what the driver leaves out).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
jobs=${2:-10000}
dpi=${3:-150}
bin=$build/bench/memory/bench_render_memory
[ -x "$bin" ] || { echo "run.sh: $bin not built (cmake -DFOLIO_BUILD_BENCH=ON, cmake --build $build)" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
/usr/bin/python3 "$root/bench/render/make_doc.py" "$tmp/doc.json" 1
echo "machine: $(nproc) CPUs; load: $(cut -d' ' -f1-3 /proc/loadavg)"
"$bin" "$tmp/doc.json" "$jobs" "$dpi"
