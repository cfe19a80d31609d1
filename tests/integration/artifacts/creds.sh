#!/usr/bin/env bash
# Wrong S3 credentials at start-up: run under `scripts/stack.sh run
# pg,redis,s3 --` (real Ceph RGW, which checks SigV4 like AWS). folio-server
# and folio-worker started with a wrong secret key must exit non-zero at
# start-up naming S3's SignatureDoesNotMatch; with an unknown access key,
# InvalidAccessKeyId. Then, with the right keys, the worker gets past the
# check (the test tells a refusal from any other failure). Every process
# started here is bounded by timeout(1) and stopped on exit.
#   creds.sh FOLIO_SERVER FOLIO_WORKER
set -u
server=$1 worker=$2
. "$(dirname "$0")/../../harness/checks.sh"

export FOLIO_API_KEY_PEPPER=creds-pepper-0123456789 FOLIO_LOG_LEVEL=info FOLIO_WORKERS=1
# The servers here must be refused before they listen; were one to get that
# far, it binds a port of its own choosing (never one picked "free" earlier).
export FOLIO_LISTEN=127.0.0.1:0
"$server" migrate >"$work/migrate.log" 2>&1 || { cat "$work/migrate.log"; exit 1; }

# refused NAME CODE ENV... : runs NAME (server|worker) with ENV overriding the
# S3 settings; it must exit non-zero within 60 s with CODE in its output.
refused() {
  local name=$1 code=$2; shift 2
  local bin=$server; [ "$name" = worker ] && bin=$worker
  env "$@" timeout 60 "$bin" >"$work/$name.log" 2>&1; local rc=$?
  if [ $rc = 124 ]; then
    bad "folio-$name with $code-worthy credentials was still running after 60 s"
  elif [ $rc = 0 ]; then
    bad "folio-$name exited 0 with wrong credentials"
  elif grep -q "$code" "$work/$name.log"; then
    ok "folio-$name exits $rc at start-up naming $code"; grep -m1 "$code" "$work/$name.log"
  else
    bad "folio-$name exited $rc without naming $code: $(tail -3 "$work/$name.log")"
  fi
}

wrong_secret="FOLIO_S3_SECRET_KEY=${FOLIO_S3_SECRET_KEY}-wrong"
unknown_key="FOLIO_S3_ACCESS_KEY=folio-nobody-$$"
refused server SignatureDoesNotMatch "$wrong_secret"
refused worker SignatureDoesNotMatch "$wrong_secret"
refused server InvalidAccessKeyId "$unknown_key"
refused worker InvalidAccessKeyId "$unknown_key"

# the right keys: the worker passes the check and its render process starts
"$worker" >"$work/worker-ok.log" 2>&1 &
pids+=($!)
ready=0
for _ in $(seq 1 150); do
  grep -q '"render process ready"' "$work/worker-ok.log" && { ready=1; break; }
  kill -0 "${pids[0]}" 2>/dev/null || break
  sleep 0.2
done
[ $ready = 1 ] && ok "with the right keys folio-worker starts" ||
  bad "folio-worker did not start with the right keys: $(tail -3 "$work/worker-ok.log")"

echo "$checks checks, $fails failed"
[ "$fails" = 0 ]
