#!/usr/bin/env bash
# Stops the redis-server that redis-up.sh started in DATA_DIR: the pid in
# DATA_DIR/redis.pid, only while /proc/PID/cmdline still names redis-server on
# the recorded port (protects against pid reuse). --purge also removes DATA_DIR.
set -uo pipefail
dir=${1:?usage: redis-down.sh DATA_DIR [--purge]}
if [ -f "$dir/redis.pid" ] && [ -f "$dir/port" ]; then
  pid=$(cat "$dir/redis.pid")
  port=$(cat "$dir/port")
  if tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "redis-server.*:$port"; then
    kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 1 100); do
      kill -0 "$pid" 2>/dev/null || break
      grep -q "^[0-9]* ([^)]*) Z" "/proc/$pid/stat" 2>/dev/null && break # exited, not yet reaped
      sleep 0.05
    done
    kill -KILL "$pid" 2>/dev/null || true
  fi
fi
if [ "${2:-}" = --purge ]; then rm -rf "$dir"; fi
exit 0
