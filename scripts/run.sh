#!/usr/bin/env bash
# The run command: installs what is missing, builds, starts the whole local
# stack and folio on it, renders the example layout through it, then keeps the
# service running in the foreground until Ctrl-C.
#
#   scripts/run.sh [--no-demo] [--out DIR]
#
#  1. scripts/deps.sh run; cmake build in ./build
#  2. scripts/stack.sh up: throwaway PostgreSQL, Redis and Ceph RGW (S3) on
#     loopback, in a temp dir
#  3. folio-server migrate; folio-server apikey create --tenant demo
#  4. folio-server (FOLIO_LISTEN, default 127.0.0.1:50051) and folio-worker
#  5. unless --no-demo: folio submit client/examples/layouts/example.json
#     --format pdf,png,sla --wait; folio fetch --out ./folio-out (PDF, PNG
#     pages and SLA through StreamArtifact, sha256 verified); folio url, checked
#     with curl, printed
#  6. waits; Ctrl-C (or either process dying) stops exactly what it started.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
demo=1
out=$PWD/folio-out
while [ $# -gt 0 ]; do
  case "$1" in
    --no-demo) demo=0 ;;
    --out) out=$2; shift ;;
    -h | --help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown argument '$1' (--no-demo, --out DIR)" >&2; exit 2 ;;
  esac
  shift
done
say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

cd "$root"
say "installing what is missing (scripts/deps.sh run)"
"$root/scripts/deps.sh" run
say "building (./build)"
gen=()
command -v ninja >/dev/null 2>&1 && gen=(-G Ninja)
[ -f build/CMakeCache.txt ] && gen=()
cmake -S . -B build "${gen[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc 2>/dev/null || echo 2)" --target folio folio-server folio-worker
bin=$root/build

stack=$(mktemp -d /tmp/folio-run.XXXXXX)
pids=()
stopped=0
stop() {
  [ $stopped = 1 ] && return
  stopped=1
  trap - INT TERM
  say "stopping"
  local p
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  "$root/scripts/stack.sh" down "$stack" >/dev/null 2>&1 || true
  rm -rf "$stack"
}
trap stop EXIT
trap 'exit 130' INT TERM

say "starting PostgreSQL, Redis and Ceph RGW (scripts/stack.sh, in $stack)"
exports=$("$root/scripts/stack.sh" up "$stack")
eval "$exports"
case ",$(cat "$stack/started" | paste -sd,)," in
  *,s3,*) ;;
  *) echo "run.sh: the S3 server (Ceph RGW) did not start; artifacts need it" >&2; exit 1 ;;
esac
export FOLIO_LISTEN=${FOLIO_LISTEN:-127.0.0.1:50051}
export FOLIO_ADDR=$FOLIO_LISTEN
export FOLIO_API_KEY_PEPPER=${FOLIO_API_KEY_PEPPER:-$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')}
export FOLIO_SHUTDOWN_GRACE_MS=${FOLIO_SHUTDOWN_GRACE_MS:-5000}

say "folio-server migrate"
"$bin/server/folio-server" migrate
FOLIO_API_KEY=$("$bin/server/folio-server" apikey create --tenant demo 2>/dev/null)
export FOLIO_API_KEY

say "starting folio-server on $FOLIO_LISTEN and folio-worker (logs in $stack/*.log)"
"$bin/server/folio-server" >"$stack/server.log" 2>&1 &
pids+=($!)
"$bin/worker/folio-worker" >"$stack/worker.log" 2>&1 &
pids+=($!)

folio=$bin/client/folio
# ready when a lookup of a job that does not exist is answered NOT_FOUND (6)
rc=8
for _ in $(seq 1 150); do
  set +e
  "$folio" status 00000000-0000-7000-8000-000000000000 >/dev/null 2>&1
  rc=$?
  set -e
  [ $rc = 6 ] && break
  kill -0 "${pids[0]}" 2>/dev/null || break
  sleep 0.2
done
if [ $rc != 6 ]; then
  echo "run.sh: folio-server is not answering on $FOLIO_LISTEN (last folio exit $rc); its log:" >&2
  tail -20 "$stack/server.log" >&2
  exit 1
fi

if [ $demo = 1 ]; then
  layout=$root/client/examples/layouts/example.json
  say "folio submit $(basename "$layout") --format pdf,png,sla --wait"
  id=$("$folio" submit "$layout" --format pdf,png,sla --label demo=run.sh --wait)
  say "folio fetch $id --out $out"
  "$folio" fetch "$id" --out "$out"
  say "folio url $id --name document.pdf --ttl 1h"
  url=$("$folio" url "$id" --name document.pdf --ttl 1h)
  got=$(curl -s -o /dev/null -w '%{http_code} %{size_download}' "$url")
  if [ "${got%% *}" != 200 ]; then
    echo "run.sh: the signed URL did not work with curl (HTTP ${got%% *})" >&2
    exit 1
  fi
  echo "$url"
  say "signed URL checked with curl: HTTP 200, ${got#* } bytes (valid for 1 hour)"
fi

cat >&2 <<MSG

folio is running. In another shell:
  export FOLIO_ADDR=$FOLIO_ADDR FOLIO_API_KEY=$FOLIO_API_KEY
  $folio submit $root/client/examples/layouts/example.json --format pdf,png --wait
Logs: $stack/server.log, $stack/worker.log. Ctrl-C stops everything.
MSG
set +e
wait -n "${pids[@]}"
echo "run.sh: a folio process exited; stopping the rest" >&2
exit 1
