#!/usr/bin/env bash
# SubmitLayout's database path: a throwaway PostgreSQL with fsync ON (commits
# cost a real flush), the schema migrated, then bench_submit: each step of a
# submission measured alone (decode, zstd, the row with pglz vs zstd +
# EXTERNAL, the event row, WAL bytes, and a PUT of the layout to Ceph RGW as
# the store-by-digest alternative would do), then three ways of committing.
# The layout is bench/pipeline's: bench/decode's generator trimmed to
# LAYOUT_BYTES (47,000), or LAYOUT_FILE.
# Usage: bench/jobs/run.sh [BUILD_DIR] [N]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
n=${2:-2000}
[ -x "$build/bench/jobs/bench_submit" ] || { echo "build first: cmake --build $build --target bench_submit" >&2; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/folio-benchjobs.XXXXXX")
trap 'rm -rf "$work"' EXIT
layout=${LAYOUT_FILE:-}
if [ -z "$layout" ]; then
  layout=$work/layout.json
  bytes=${LAYOUT_BYTES:-47000}
  /usr/bin/python3 "$root/bench/decode/gen.py" "$work/gen.json" "$((bytes + 20000))"
  /usr/bin/python3 - "$work/gen.json" "$layout" "$bytes" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
target = int(sys.argv[3])
enc = lambda: json.dumps(d, ensure_ascii=False).encode()
while len(enc()) > target:
    d["pages"][-1]["items"].pop()
    if not d["pages"][-1]["items"]:
        d["pages"].pop()
open(sys.argv[2], "wb").write(enc())
PY
fi
PG_FSYNC=on "$root/scripts/stack.sh" run pg,s3 -- "$build/bench/jobs/bench_submit" "$n" "$layout"
