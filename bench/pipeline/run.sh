#!/usr/bin/env bash
# The job pipeline benchmark (issue 4 §8), end to end through folio-server over
# gRPC, against the naive design measured with pgbench in the same run on the
# same PostgreSQL.
#
#   bench/pipeline/run.sh [--seconds N] [--calls N] [--conns N] [--jobs N] [--smoke]
#
# It builds folio-server, folio-worker, folio and bench_pipeline (release
# build in build/, or $FOLIO_BUILD_DIR), then under scripts/stack.sh starts a
# throwaway PostgreSQL with fsync ON (and synchronous_commit on: every commit
# waits for a real flush; the script prints both settings as PostgreSQL
# reports them), Redis and Ceph RGW, migrates, creates an API key, starts
# folio-server and folio-worker on loopback, and measures, in this order:
#
#  1. submit→SUCCEEDED of a 1-page job (PDF+PNG), --jobs sequential jobs with
#     the workers otherwise idle, and WatchJob delivery latency (bench_pipeline
#     latency; how the delivery latency is measured — against job_events.at,
#     taken inside the committing transaction, so an upper bound on
#     commit→watcher — is written at the top of bench_pipeline.c);
#  2. folio-worker is stopped (so rendering does not compete with what follows);
#  3. SubmitLayout: --calls concurrent calls (64) over --conns connections,
#     ~10 KB layouts, for --seconds: throughput, p50/p99 (bench_pipeline submit);
#  4. naive insert: pgbench -M prepared, --calls clients, one INSERT of a job row
#     with the same layout bytes per transaction into naive_jobs (created LIKE
#     jobs INCLUDING ALL: same columns, defaults, checks, indexes, unique
#     constraint), and for reference 100 rows per transaction;
#  5. GetStatus: --calls concurrent calls on random ids from step 3
#     (bench_pipeline status);
#  6. naive select: pgbench -M prepared, --calls clients, one
#     `SELECT <GetStatus's job columns> FROM naive_status WHERE id = $1` per
#     transaction, naive_status holding as many rows as jobs has.
#
# The naive statements are prepared and carry the layout as a literal in the
# prepared statement (not re-sent per call): if anything that favours the
# baseline. Every ratio is printed against its target with meets / MISSES.
# Results move with the machine's load; the load average is printed. On a
# shared machine the naive side's 64 backends also win a bigger share of the
# CPU against everything else running than folio's few threads do, so the
# summary adds a steadier figure: requests per CPU-second of every process
# serving the phase (folio-server + Redis + PostgreSQL + the load generator,
# vs PostgreSQL + pgbench), read from /proc and getrusage. The raw ratios are
# the ones judged against the targets.
# --smoke: 3-second phases and 3 jobs, to check the script works (no targets
# are judged worth anything then).
# Issue 16's end-to-end targets (the render alone, a one-job timeline, 500
# jobs against a baseline commit built in the same run) are e2e.sh's.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
here=$root/bench/pipeline
build=${FOLIO_BUILD_DIR:-$root/build}
bin=${PG_BIN:-/usr/lib/postgresql/15/bin}

seconds=10 calls=64 conns=8 jobs=50 smoke=0 inside=0
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds=$2; shift ;;
    --calls) calls=$2; shift ;;
    --conns) conns=$2; shift ;;
    --jobs) jobs=$2; shift ;;
    --smoke) smoke=1 seconds=3 jobs=3 ;;
    --in-stack) inside=1 ;;
    -h | --help) sed -n '2,37p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
opts=(--seconds "$seconds" --calls "$calls" --conns "$conns" --jobs "$jobs")
[ $smoke = 1 ] && opts+=(--smoke)

if [ $inside = 0 ]; then
  [ -x "$bin/pgbench" ] || { echo "run.sh: no pgbench in $bin (Debian: postgresql-15)" >&2; exit 1; }
  if [ -z "${FOLIO_BENCH_NO_BUILD:-}" ]; then
    gen=()
    command -v ninja >/dev/null 2>&1 && [ ! -f "$build/CMakeCache.txt" ] && gen=(-G Ninja)
    cmake -S "$root" -B "$build" "${gen[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFOLIO_BUILD_BENCH=ON >/dev/null
    cmake --build "$build" -j 2 --target folio-server folio-worker folio bench_pipeline >&2
  fi
  # 64 pgbench clients + folio-server's and folio-worker's connections
  export PG_FSYNC=on PG_MAX_CONNECTIONS=$((calls + 60))
  exec "$root/scripts/stack.sh" run pg,redis,s3 -- "$0" --in-stack "${opts[@]}"
fi

# ---- inside the stack: FOLIO_DATABASE_URL, FOLIO_REDIS_URL, FOLIO_S3_* set ----
work=$(mktemp -d "${TMPDIR:-/tmp}/folio-pipeline.XXXXXX")
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
psql() { "$bin/psql" -X -q -v ON_ERROR_STOP=1 -d "$FOLIO_DATABASE_URL" "$@"; }

srv=$build/server/folio-server
export FOLIO_API_KEY_PEPPER=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
export FOLIO_SHUTDOWN_GRACE_MS=5000
"$srv" migrate >/dev/null 2>&1
FOLIO_API_KEY=$("$srv" apikey create --tenant bench 2>/dev/null)
export FOLIO_API_KEY
# A bulk tenant: the benchmark measures the pipeline, not the per-tenant
# limits (docs/security.md), so they are raised out of its way.
"$srv" tenant set bench --submit-rate 1000000 --submit-burst 1000000 \
  --max-unfinished-jobs 100000000 --max-bytes-in-flight 100000000000 \
  --max-concurrent-decodes 256 --max-running-jobs 100000 >/dev/null

# The server binds port 0 and logs the port it got (at level info, the default).
. "$root/tests/harness/listening.sh"
start_listening "$work/server.log" "$srv" || exit 1
server=$listen_pid
pids+=($server)
export FOLIO_ADDR=$listen_addr
"$build/worker/folio-worker" >"$work/worker.log" 2>&1 &
worker=$!
pids+=($worker)
rc=8
for _ in $(seq 1 150); do
  set +e
  "$build/client/folio" status 00000000-0000-7000-8000-000000000000 >/dev/null 2>&1
  rc=$?
  set -e
  [ $rc = 6 ] && break
  sleep 0.2
done
[ $rc = 6 ] || { echo "run.sh: folio-server is not answering; its log:" >&2; tail -20 "$work/server.log" >&2; exit 1; }

# A 1-page layout of about 10 KB: bench/decode's generator, trimmed.
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
layout_bytes=$(wc -c <"$work/layout.json")
load() { cut -d' ' -f1-3 /proc/loadavg; }

# CPU accounting, in clock ticks. PostgreSQL: the postmaster, its live
# children, and (cutime/cstime) the children it already reaped.
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
pg_ticks() {
  local pm c t
  pm=$(head -1 "$FOLIO_STACK_DIR/pg/data/postmaster.pid")
  t=$(awk '{ print $14 + $15 + $16 + $17 }' "/proc/$pm/stat")
  for c in $(pgrep -P "$pm"); do t=$((t + $(ticks "$c"))); done
  echo "$t"
}
redis_pid=$(cat "$FOLIO_STACK_DIR/redis/redis.pid")
folio_ticks() { echo $(( $(ticks "$server") + $(ticks "$redis_pid") + $(pg_ticks) )); }
tck=$(getconf CLK_TCK)
# calls per CPU-second: per_cpu CALLS TICKS CLIENT_CPU_S
per_cpu() { awk -v n="$1" -v t="$2" -v hz="$tck" -v c="$3" 'BEGIN { s = t / hz + c; printf "%.0f", (s > 0 ? n / s : 0) }'; }

fsync=$(psql -Atc 'SHOW fsync')
synccommit=$(psql -Atc 'SHOW synchronous_commit')
say "PostgreSQL fsync=$fsync synchronous_commit=$synccommit; layout $layout_bytes bytes; $calls callers over $conns connections; load $(load)"

say "1. submit→SUCCEEDED and WatchJob delivery: $jobs sequential 1-page jobs, workers idle"
lat=$("$build/bench/pipeline/bench_pipeline" latency "$FOLIO_ADDR" "$FOLIO_API_KEY" "$work/layout.json" "$jobs" "$FOLIO_DATABASE_URL")
echo "$lat" >&2

say "2. stopping folio-worker"
kill -TERM "$worker"
wait "$worker" || true

say "3. SubmitLayout for ${seconds}s (load $(load))"
t0=$(folio_ticks)
sub=$("$build/bench/pipeline/bench_pipeline" submit "$FOLIO_ADDR" "$FOLIO_API_KEY" "$work/layout.json" "$seconds" "$calls" "$conns" "$work/ids")
echo "$sub" >&2
sub_ticks=$(( $(folio_ticks) - t0 ))

# The naive tables: shaped like jobs (columns, defaults, checks, indexes).
layout_hex=$(od -An -v -tx1 "$work/layout.json" | tr -d ' \n')
psql -c "CREATE TABLE naive_jobs (LIKE jobs INCLUDING ALL)" \
     -c "CREATE TABLE naive_status (LIKE jobs INCLUDING ALL)"
cat >"$work/insert1.sql" <<SQL
INSERT INTO naive_jobs (id, tenant, formats, layout) VALUES (gen_random_uuid(), 'bench', '{1}', '\\x$layout_hex'::bytea);
SQL
cat >"$work/insert100.sql" <<SQL
INSERT INTO naive_jobs (id, tenant, formats, layout) SELECT gen_random_uuid(), 'bench', '{1}', '\\x$layout_hex'::bytea FROM generate_series(1, 100);
SQL
pgbench() {  # pgbench SCRIPT → "tps avg_latency_ms transactions/cpu-s"
  local t0 t1 tps lat n cpu
  t0=$(pg_ticks)
  # `times` in the subshell: pgbench's own user and system time
  ( "$bin/pgbench" -n -M prepared -c "$calls" -j 2 -T "$seconds" -f "$1" "$FOLIO_DATABASE_URL" \
      >"$work/pgbench.out" 2>&1 || { cat "$work/pgbench.out" >&2; exit 1; }
    times | tail -1 >"$work/pgbench.times" ) || exit 1
  sleep 0.5 # the postmaster reaps the backends
  t1=$(pg_ticks)
  tps=$(sed -n 's/^tps = \([0-9.]*\) (without initial connection time)/\1/p' "$work/pgbench.out")
  lat=$(sed -n 's/^latency average = \([0-9.]*\) ms/\1/p' "$work/pgbench.out")
  n=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$work/pgbench.out")
  cpu=$(awk '{ for (i = 1; i <= 2; i++) { split($i, a, /[ms]/); s += a[1] * 60 + a[2] } } END { print s }' \
        "$work/pgbench.times")
  echo "$tps $lat $(per_cpu "$n" $((t1 - t0)) "$cpu")"
}
say "4. naive insert: pgbench, one ${layout_bytes}-byte row per transaction (load $(load))"
read -r ins1 ins1_lat ins1_cpu < <(pgbench "$work/insert1.sql")
echo "tps=$ins1 avg_ms=$ins1_lat per_cpu_s=$ins1_cpu" >&2
say "   reference: 100 rows per transaction"
read -r ins100 ins100_lat ins100_cpu < <(pgbench "$work/insert100.sql")
echo "tps=$ins100 avg_ms=$ins100_lat per_cpu_s=$ins100_cpu" >&2

# Both read phases run on analyzed tables (naive_status is analyzed below).
# Without it the server's connections keep the generic plan they cached for
# GetStatus while jobs held a few rows (a sequential scan), until autovacuum
# happens to analyze jobs: GetStatus then runs ~50x slower, by luck of timing.
psql -c "VACUUM ANALYZE jobs"
say "5. GetStatus for ${seconds}s (load $(load))"
t0=$(folio_ticks)
st=$("$build/bench/pipeline/bench_pipeline" status "$FOLIO_ADDR" "$FOLIO_API_KEY" "$work/ids" "$seconds" "$calls" "$conns")
echo "$st" >&2
st_ticks=$(( $(folio_ticks) - t0 ))

njobs=$(psql -Atc "SELECT count(*) FROM jobs")
psql -c "INSERT INTO naive_status (id, tenant, formats, layout)
         SELECT md5(g::text)::uuid, 'bench', '{1}', '\\x$layout_hex'::bytea FROM generate_series(1, $njobs) g" \
     -c "VACUUM ANALYZE naive_status"
cat >"$work/select.sql" <<SQL
\\set n random(1, $njobs)
SELECT id, state, progress_percent, attempts, error_code, error_message, created_at, started_at, finished_at, labels, formats FROM naive_status WHERE id = md5(:n::text)::uuid;
SQL
say "6. naive select: pgbench, one SELECT by id per transaction over $njobs rows (load $(load))"
read -r sel sel_lat sel_cpu < <(pgbench "$work/select.sql")
echo "tps=$sel avg_ms=$sel_lat per_cpu_s=$sel_cpu" >&2

# ---- the summary ----
kv() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
verdict() { awk -v v="$1" -v t="$2" -v lt="${3:-}" 'BEGIN { ok = (lt ? v <= t : v >= t); print ok ? "meets" : "MISSES" }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
sub_rps=$(kv "$sub" rps) st_rps=$(kv "$st" rps)
r_sub=$(ratio "$sub_rps" "$ins1") r_st=$(ratio "$st_rps" "$sel")
w99=$(kv "$lat" watch_p99_ms)
sub_cpu=$(per_cpu "$(kv "$sub" done)" "$sub_ticks" "$(kv "$sub" cpu_s)")
st_cpu=$(per_cpu "$(kv "$st" done)" "$st_ticks" "$(kv "$st" cpu_s)")
rows100=$(awk -v t="$ins100" 'BEGIN { printf "%.0f", t * 100 }')
cat <<OUT

folio job pipeline benchmark — PostgreSQL fsync=$fsync synchronous_commit=$synccommit, $(nproc) CPUs, load $(load)
layout $layout_bytes bytes, $calls concurrent callers ($conns connections), ${seconds}s per phase
  SubmitLayout          $(printf '%8.0f' "$sub_rps")/s  p50 $(kv "$sub" p50_ms) ms  p99 $(kv "$sub" p99_ms) ms  (failed $(kv "$sub" failed))
  naive INSERT (pgbench) $(printf '%7.0f' "$ins1") tx/s  avg $ins1_lat ms; 100-row tx: $(printf '%.0f' "$ins100") tx/s = $rows100 rows/s
  ratio SubmitLayout/naive insert  $r_sub  (target >= 2)     $(verdict "$r_sub" 2)
    per CPU-second of all serving processes: SubmitLayout $sub_cpu, naive $ins1_cpu, ratio $(ratio "$sub_cpu" "$ins1_cpu")
  GetStatus             $(printf '%8.0f' "$st_rps")/s  p50 $(kv "$st" p50_ms) ms  p99 $(kv "$st" p99_ms) ms  (failed $(kv "$st" failed))
  naive SELECT (pgbench) $(printf '%7.0f' "$sel") tx/s  avg $sel_lat ms
  ratio GetStatus/naive select     $r_st  (target >= 0.8)   $(verdict "$r_st" 0.8)
    per CPU-second of all serving processes: GetStatus $st_cpu, naive $sel_cpu, ratio $(ratio "$st_cpu" "$sel_cpu")
  submit→SUCCEEDED (1 page, PDF+PNG, $jobs jobs, workers idle)  p50 $(kv "$lat" e2e_p50_ms) ms  p99 $(kv "$lat" e2e_p99_ms) ms
  WatchJob delivery ($(kv "$lat" events) events)  p50 $(kv "$lat" watch_p50_ms) ms  p99 $w99 ms  max $(kv "$lat" watch_max_ms) ms  (target p99 <= 50 ms)  $(verdict "$w99" 50 1)
OUT
