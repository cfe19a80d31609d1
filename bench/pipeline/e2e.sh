#!/usr/bin/env bash
# Issue 16's end-to-end targets for a one-page PDF+PNG job, against the render
# alone and against a baseline folio built in the same run:
#
#   bench/pipeline/e2e.sh [--jobs N] [--batch N] [--renders N] [--baseline COMMIT] [--quick]
#       --jobs 40        sequential jobs for the timeline (p50 of each step)
#       --batch 500      jobs of the throughput run (two render processes)
#       --renders 30     in-process renders for the render-alone p50
#       --baseline d4253ca   "today": built by bench/baseline.sh (ccache);
#                        --baseline none skips it
#       --quick          --jobs 10 --batch 60 --renders 10
#
# Under scripts/stack.sh (PostgreSQL with fsync on, Redis, Ceph RGW), for this
# tree and then for the baseline, each on its own fresh database: migrate,
# an API key, folio-server and folio-worker with FOLIO_WORKERS=2, then
#  1. timeline: --jobs sequential jobs, each after one render alone in the
#     benchmark's process (the ratio's denominator: same load), SubmitLayout → WatchJob SUCCEEDED,
#     with the job row's timestamps and the worker's stage timers (this tree
#     only; the baseline logs none): where the time goes, step by step;
#  2. batch: --batch jobs submitted back to back, wall time until the last is
#     SUCCEEDED.
# And once: the render alone (bench_e2e render: decode, PDF, PNG at 150 dpi,
# hashed, in one process on one thread). Prints e2e p50 / render p50 (target
# <= 1.3) and the batch's speed-up over the baseline (target >= 2.5).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${FOLIO_BUILD_DIR:-$root/build}
jobs=40 batch=500 renders=30 baseline=${FOLIO_BASELINE:-d4253ca} inside=0 base_build=none
while [ $# -gt 0 ]; do
  case "$1" in
    --jobs) jobs=$2; shift ;;
    --batch) batch=$2; shift ;;
    --renders) renders=$2; shift ;;
    --baseline) baseline=$2; shift ;;
    --quick) jobs=10 batch=60 renders=10 ;;
    --in-stack) inside=1 ;;
    --base-build) base_build=$2; shift ;;
    -h | --help) sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "e2e.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done

if [ $inside = 0 ]; then
  if [ -z "${FOLIO_BENCH_NO_BUILD:-}" ]; then
    gen=()
    command -v ninja >/dev/null 2>&1 && [ ! -f "$build/CMakeCache.txt" ] && gen=(-G Ninja)
    cmake -S "$root" -B "$build" "${gen[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFOLIO_BUILD_BENCH=ON >/dev/null
    cmake --build "$build" -j 2 --target folio-server folio-worker folio bench_e2e >&2
  fi
  [ "$baseline" != none ] && base_build=$("$root/bench/baseline.sh" "$baseline" folio-server folio-worker)
  export PG_FSYNC=on
  exec "$root/scripts/stack.sh" run pg,redis,s3 -- "$0" --in-stack --jobs "$jobs" --batch "$batch" \
    --renders "$renders" --baseline "$baseline" --base-build "$base_build"
fi

# ---- inside the stack ----
bin=${PG_BIN:-/usr/lib/postgresql/15/bin}
work=$(mktemp -d "${TMPDIR:-/tmp}/folio-e2e.XXXXXX")
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 143' TERM INT
say() { printf '== %s\n' "$*" >&2; }
load() { cut -d' ' -f1-3 /proc/loadavg; }
kv() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
. "$root/tests/harness/listening.sh"

# The layout: bench/pipeline/run.sh's 1-page ~10 KB document.
/usr/bin/python3 "$root/bench/decode/gen.py" "$work/page.json" 10000
/usr/bin/python3 - "$work/page.json" "$work/layout.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["pages"] = d["pages"][:1]
items = d["pages"][0]["items"]
enc = lambda: json.dumps(d, ensure_ascii=False).encode()
while len(enc()) > 10240:
    items.pop()
open(sys.argv[2], "wb").write(enc())
PY

base_url=$FOLIO_DATABASE_URL
# db_url NAME: the stack's URL with another database name
db_url() { sed -E "s#^(postgres(ql)?://[^/]*/)[^?]*#\1$1#" <<<"$base_url"; }

# run_tree LABEL BUILD DB: fresh database, server + 2 render processes,
# timeline and batch; sets tl_LABEL and batch_LABEL.
run_tree() {
  local label=$1 b=$2 db=$3
  "$bin/psql" -X -q -d "$base_url" -c "CREATE DATABASE $db" >/dev/null
  export FOLIO_DATABASE_URL
  FOLIO_DATABASE_URL=$(db_url "$db")
  export FOLIO_API_KEY_PEPPER=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
  export FOLIO_SHUTDOWN_GRACE_MS=5000
  "$b/server/folio-server" migrate >/dev/null 2>&1
  local key
  key=$("$b/server/folio-server" apikey create --tenant bench 2>/dev/null)
  "$b/server/folio-server" tenant set bench --submit-rate 1000000 --submit-burst 1000000 \
    --max-unfinished-jobs 100000000 --max-bytes-in-flight 100000000000 \
    --max-concurrent-decodes 256 --max-running-jobs 100000 >/dev/null
  start_listening "$work/server-$label.log" "$b/server/folio-server" || exit 1
  local server=$listen_pid addr=$listen_addr
  pids+=("$server")
  FOLIO_WORKERS=2 "$b/worker/folio-worker" >"$work/worker-$label.log" 2>&1 &
  local worker=$!
  pids+=("$worker")
  sleep 2 # both render processes joined the consumer group
  say "$label: timeline, $jobs sequential jobs (load $(load))"
  local tl
  tl=$("$build/bench/pipeline/bench_e2e" timeline "$addr" "$key" "$work/layout.json" "$jobs" \
    "$FOLIO_DATABASE_URL" "$work/worker-$label.log")
  echo "$tl" >&2
  say "$label: batch of $batch jobs, two render processes (load $(load))"
  local bt
  bt=$("$build/bench/pipeline/bench_e2e" batch "$addr" "$key" "$work/layout.json" "$batch")
  echo "$bt" >&2
  kill -TERM "$worker" "$server"
  wait "$worker" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  printf -v "tl_$label" '%s' "$tl"
  printf -v "batch_$label" '%s' "$bt"
}

say "e2e: $(nproc) CPUs, load $(load); PostgreSQL fsync=$("$bin/psql" -X -Atd "$base_url" -c 'SHOW fsync')"
say "render alone: $renders in-process renders (load $(load))"
rn=$("$build/bench/pipeline/bench_e2e" render "$work/layout.json" "$renders")
echo "$rn" >&2
rn_old=$("$build/bench/pipeline/bench_e2e" render "$work/layout.json" "$renders" mmap256k)
echo "$rn_old" >&2
tl_tree='' batch_tree='' tl_base='' batch_base=''
run_tree tree "$build" e2e_tree
[ "$base_build" != none ] && run_tree base "$base_build" e2e_base

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
verdict() { awk -v v="$1" -v t="$2" -v lt="${3:-}" 'BEGIN { ok = (lt ? v <= t : v >= t); print ok ? "meets" : "MISSES" }'; }
# the ratio's render: the renders alone interleaved with the timeline's jobs
render=$(kv "$tl_tree" render_alone_p50_ms) e2e=$(kv "$tl_tree" e2e_p50_ms)
r1=$(ratio "$e2e" "$render")
cat <<OUT

folio end to end, one-page PDF+PNG job — $(nproc) CPUs, load $(load)
  render alone (in-process, 1 thread)  p50 $(kv "$rn" render_p50_ms) ms  (decode $(kv "$rn" decode_p50_ms), PDF $(kv "$rn" pdf_p50_ms), PNG $(kv "$rn" png_p50_ms) ms)
    under the render processes' former malloc policy (mmap from 256 KiB): p50 $(kv "$rn_old" render_p50_ms) ms
    interleaved with the timeline's jobs: p50 $render ms; inside folio-worker (render minus upload waits): $(kv "$tl_tree" w_render_only_p50_ms) ms
  submit → SUCCEEDED seen by WatchJob   p50 $e2e ms  ($jobs sequential jobs)
  ratio e2e / render                    $r1  (target <= 1.3)  $(verdict "$r1" 1.3 1)
  timeline (p50 of each step, ms; the job row's timestamps and the client's clock):
    submit sent → job row written       $(kv "$tl_tree" submit_to_row_p50_ms)
    job row → submit answered           $(kv "$tl_tree" row_to_reply_p50_ms)
    answered → claimed (dispatch+claim) $(kv "$tl_tree" reply_to_claimed_p50_ms)
    claimed → SUCCEEDED committed       $(kv "$tl_tree" claimed_to_finished_p50_ms)
      worker: claim $(kv "$tl_tree" w_claim_p50_ms), render+upload $(kv "$tl_tree" w_render_p50_ms) (of it waiting for S3 $(kv "$tl_tree" w_upload_wait_p50_ms)), commit $(kv "$tl_tree" w_commit_p50_ms)
    committed → WatchJob delivered      $(kv "$tl_tree" finished_to_watcher_p50_ms)
OUT
if [ -n "$batch_base" ]; then
  sp=$(ratio "$(kv "$batch_base" wall_s)" "$(kv "$batch_tree" wall_s)")
  cat <<OUT
  baseline $baseline: e2e p50 $(kv "$tl_base" e2e_p50_ms) ms (this tree: $e2e ms)
  $batch jobs, 2 render processes: this tree $(kv "$batch_tree" wall_s) s, baseline $(kv "$batch_base" wall_s) s
  speed-up                              ${sp}x  (target >= 2.5)  $(verdict "$sp" 2.5)
OUT
else
  echo "  $batch jobs, 2 render processes: $(kv "$batch_tree" wall_s) s (no baseline)"
fi
