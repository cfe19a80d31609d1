#!/usr/bin/env bash
# Starts a throwaway redis-server in DATA_DIR on 127.0.0.1:PORT and on
# DATA_DIR/redis.sock, without persistence. PORT omitted or 0: a port is
# picked, and picked again (up to REDIS_PORT_TRIES, 8) when another process
# binds it first.
#
#   eval "$(scripts/services/redis-up.sh DATA_DIR [PORT])"   # sets FOLIO_REDIS_URL
#   scripts/services/redis-down.sh DATA_DIR [--purge]
#
# Stdout carries only the export line; progress and errors go to stderr.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dir=${1:?usage: redis-up.sh DATA_DIR [PORT]}
port=${2:-0}
command -v redis-server >/dev/null || { echo "redis-up.sh: redis-server missing (apt-get install redis-server)" >&2; exit 1; }
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
# Redis cannot bind port 0 and report it, so with PORT 0 a candidate from
# free-port.sh is tried; another process may bind it first (tests run in
# parallel: possibly another test's Redis, which would answer PING too). Ready
# means: the redis-server of our pid file owns the listening socket (ss), and
# answers PING. A lost race (it logs "Address already in use" and exits) is
# retried on another port; any other failure ends the script at once.
command -v ss >/dev/null || { echo "redis-up.sh: ss missing (apt-get install iproute2)" >&2; exit 1; }
tries=${REDIS_PORT_TRIES:-8}
for try in $(seq 1 "$tries"); do
  p=$port
  [ "$p" != 0 ] || p=$("$here/free-port.sh")
  rm -f "$dir/redis.pid" "$dir/redis.log"
  redis-server --bind 127.0.0.1 --port "$p" --unixsocket "$dir/redis.sock" --unixsocketperm 700 \
    --save '' --appendonly no --dir "$dir" --daemonize yes --pidfile "$dir/redis.pid" \
    --logfile "$dir/redis.log" --protected-mode yes >/dev/null 2>&1 || true
  state=timeout
  for _ in $(seq 1 200); do
    pid=$(cat "$dir/redis.pid" 2>/dev/null || true)
    if [ -n "$pid" ] && ss -Hltnp "sport = :$p" 2>/dev/null | grep -q "pid=$pid," &&
      redis-cli -s "$dir/redis.sock" ping 2>/dev/null | grep -q PONG; then
      state=up
      break
    fi
    # liveness before the log: one that logs the error and exits in between
    # still counts as having lost the race
    [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null && state=exited
    if grep -q 'Address already in use' "$dir/redis.log" 2>/dev/null; then
      state=lost
      break
    fi
    [ $state = exited ] && break
    sleep 0.05
  done
  if [ $state = up ]; then
    echo "$p" >"$dir/port"
    echo "redis-up.sh: Redis on 127.0.0.1:$p (dir $dir)" >&2
    echo "export FOLIO_REDIS_URL='redis://127.0.0.1:$p/0'"
    exit 0
  fi
  # Whatever it is doing, this one is not ours to keep.
  [ -n "${pid:-}" ] && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "redis-server.*:$p" &&
    kill -KILL "$pid" 2>/dev/null || true
  if [ "$port" != 0 ] || [ $state != lost ] || [ "$try" = "$tries" ]; then
    why="did not start ($state)"
    [ $state = lost ] && why="lost the race for its port $try times (last: $p)"
    echo "redis-up.sh: redis-server $why:" >&2
    tail -n 20 "$dir/redis.log" >&2 2>/dev/null || true
    exit 1
  fi
  echo "redis-up.sh: port $p was taken before redis-server bound it; retrying on another" >&2
done
