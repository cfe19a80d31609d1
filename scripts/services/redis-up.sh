#!/usr/bin/env bash
# Starts a throwaway redis-server in DATA_DIR on 127.0.0.1:PORT (a free port
# when PORT is omitted or 0) and on DATA_DIR/redis.sock, without persistence.
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
for try in 1 2 3 4 5; do
  p=$port
  [ "$p" != 0 ] || p=$("$here/free-port.sh")
  rm -f "$dir/redis.pid"
  redis-server --bind 127.0.0.1 --port "$p" --unixsocket "$dir/redis.sock" --unixsocketperm 700 \
    --save '' --appendonly no --dir "$dir" --daemonize yes --pidfile "$dir/redis.pid" \
    --logfile "$dir/redis.log" --protected-mode yes >/dev/null 2>&1 || true
  for _ in $(seq 1 100); do
    if redis-cli -h 127.0.0.1 -p "$p" ping 2>/dev/null | grep -q PONG; then
      # Only ours counts: the pid file must name a live redis-server on this port.
      if [ -f "$dir/redis.pid" ] && grep -q "redis-server" "/proc/$(cat "$dir/redis.pid")/cmdline" 2>/dev/null; then
        echo "$p" >"$dir/port"
        echo "redis-up.sh: Redis on 127.0.0.1:$p (dir $dir)" >&2
        echo "export FOLIO_REDIS_URL='redis://127.0.0.1:$p/0'"
        exit 0
      fi
      break
    fi
    sleep 0.05
  done
  if [ "$port" != 0 ] || [ "$try" = 5 ]; then
    echo "redis-up.sh: redis-server did not start on port $p:" >&2
    tail -n 20 "$dir/redis.log" >&2 2>/dev/null || true
    exit 1
  fi
done
