#!/usr/bin/env bash
# The local folio stack: throwaway PostgreSQL, Redis and (when
# scripts/services/rgw-up.sh exists) Ceph RGW as S3, all on loopback.
#
#   env=$(scripts/stack.sh up DIR [SERVICES]) && eval "$env"  # start; prints the FOLIO_* exports
#   scripts/stack.sh down DIR                      # stop exactly what `up DIR` started
#   scripts/stack.sh run [SERVICES] -- CMD [ARG...]
#       start in a fresh temp dir, run CMD with the FOLIO_* environment, stop
#       everything (also when CMD fails or this script is killed), exit with
#       CMD's status.
#
# SERVICES is a comma list of pg,redis,s3 (default: all that are available).
# FOLIO_STACK_DIR is exported too: DIR/pg, DIR/redis, DIR/s3 are the service
# dirs (a test may stop and restart a service there to simulate an outage).
# `up` records each started service in DIR/started; `down` stops those, newest
# first. `run` also leaves a watchdog that stops the stack if this script dies
# without running its trap (e.g. SIGKILL from a test timeout).
#
# Loud by contract: if any wanted service fails to start, `up` stops the rest
# and exits non-zero with nothing on stdout; `run` exits 1 without running CMD.
# Neither inherits connection settings: every FOLIO_* variable of the caller
# except FOLIO_SOURCE_DIR (a test knob ctest sets) is unset first, so CMD sees
# exactly what the stack started and can never reach a real database, Redis or
# bucket named by the caller's environment. With `up`, eval only on success:
#   env=$(scripts/stack.sh up DIR) && eval "$env"
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
svc="$here/services"

default_services() {
  local s=pg,redis
  if [ -x "$svc/rgw-up.sh" ] && command -v radosgw >/dev/null 2>&1; then s=$s,s3; fi
  echo "$s"
}

# Unsets every FOLIO_* variable but the test knob FOLIO_SOURCE_DIR (see the
# header). Called before any service starts: rgw-up's bucket name and the
# services' own settings must not come from the caller either.
forget_folio_env() {
  local v
  for v in $(compgen -e); do
    case "$v" in
      FOLIO_SOURCE_DIR) ;;
      FOLIO_*) unset "$v" ;;
    esac
  done
}

cmd_up() {
  local dir=$1 services=${2:-$(default_services)}
  forget_folio_env
  mkdir -p "$dir"
  chmod 711 "$dir"
  : >"$dir/started"
  : >"$dir/env"
  local s
  for s in ${services//,/ }; do
    case "$s" in
      pg) "$svc/pg-up.sh" "$dir/pg" >>"$dir/env" ;;
      redis) "$svc/redis-up.sh" "$dir/redis" >>"$dir/env" ;;
      s3)
        [ -x "$svc/rgw-up.sh" ] || { echo "stack.sh: s3 wanted but scripts/services/rgw-up.sh is missing" >&2; cmd_down "$dir"; exit 1; }
        { "$svc/rgw-up.sh" "$dir/s3" &&
          echo "export FOLIO_S3_BUCKET=folio-local" &&
          echo "export FOLIO_S3_ADDRESSING=path"; } >>"$dir/env" ;;
      *) echo "stack.sh: unknown service '$s' (pg,redis,s3)" >&2; cmd_down "$dir"; exit 2 ;;
    esac || { echo "stack.sh: $s failed to start; stopping the rest" >&2; cmd_down "$dir"; exit 1; }
    echo "$s" >>"$dir/started"
  done
  echo "export FOLIO_STACK_DIR='$dir'" >>"$dir/env"
  cat "$dir/env"
}

cmd_down() {
  local dir=$1 s
  [ -f "$dir/started" ] || return 0
  for s in $(tac "$dir/started"); do
    case "$s" in
      pg) "$svc/pg-down.sh" "$dir/pg" ;;
      redis) "$svc/redis-down.sh" "$dir/redis" ;;
      s3) [ -x "$svc/rgw-down.sh" ] && "$svc/rgw-down.sh" "$dir/s3" ;;
    esac || true
  done
  rm -f "$dir/started"
}

cmd_run() {
  local services=""
  if [ "${1:-}" != -- ]; then services=$1; shift; fi
  [ "${1:-}" = -- ] || { echo "usage: stack.sh run [SERVICES] -- CMD [ARG...]" >&2; exit 2; }
  shift
  local dir
  dir=$(mktemp -d "${TMPDIR:-/tmp}/folio-stack.XXXXXX")
  chmod 711 "$dir"
  # The watchdog outlives us only while we live. It is double-forked (its
  # parent becomes init), so a harness that kills our whole process tree on
  # timeout (ctest does) misses it, and its stdio is detached so a caller
  # reading our output never waits on it.
  local me=$$
  ( setsid bash -c 'while kill -0 '"$me"' 2>/dev/null; do sleep 1; done
                    "$0" down "$1"; rm -rf "$1"' "$here/stack.sh" "$dir" </dev/null >/dev/null 2>&1 &
    echo $! >"$dir/watchdog.pid" )
  local watchdog
  watchdog=$(cat "$dir/watchdog.pid")
  trap 'cmd_down "$dir"; kill '"$watchdog"' 2>/dev/null; rm -rf "$dir"' EXIT
  trap 'exit 143' TERM INT
  forget_folio_env
  # Not `eval "$(cmd_up ...)"`: that ignores cmd_up's status and would run CMD
  # with no stack at all. cmd_up has already stopped what it started.
  local env
  if ! env=$(cmd_up "$dir" "${services:-$(default_services)}"); then
    echo "stack.sh: the stack did not start; not running $1" >&2
    exit 1
  fi
  eval "$env"
  set +e
  "$@"
  local rc=$?
  set -e
  exit "$rc"
}

case "${1:-}" in
  up) shift; cmd_up "${1:?usage: stack.sh up DIR [SERVICES]}" "${2:-}" ;;
  down) shift; cmd_down "${1:?usage: stack.sh down DIR}" ;;
  run) shift; cmd_run "$@" ;;
  *) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
