#!/usr/bin/env bash
# rgw-down.sh DATA_DIR [--purge]
#
# Stop exactly the processes rgw-up.sh started (PIDs recorded in
# DATA_DIR/pids), newest first: rgw, then osd, then mon.  SIGTERM, then
# SIGKILL after a grace period.  --purge also deletes DATA_DIR.
set -uo pipefail
if [ $# -lt 1 ]; then
  echo "usage: $0 DATA_DIR [--purge]" >&2
  exit 2
fi
[ -d "$1" ] || { echo "$1: no such directory" >&2; exit 0; }
DIR=$(cd "$1" && pwd)
PIDS=$DIR/pids
GRACE=${GRACE:-10}

# only signal a PID whose command line still mentions DIR (guards against
# PID reuse after a crash or reboot)
owned() { tr '\0' ' ' < "/proc/$1/cmdline" 2>/dev/null | grep -qF -- "$DIR/"; }

if [ -s "$PIDS" ]; then
  # reverse order: last started is stopped first
  tac "$PIDS" | while read -r pid name; do
    [ -n "$pid" ] || continue
    if owned "$pid"; then
      kill -TERM "$pid" 2>/dev/null
      for _ in $(seq 1 $((GRACE * 10))); do
        owned "$pid" || break
        sleep 0.1
      done
      if owned "$pid"; then
        echo "rgw-down: $name ($pid) ignored SIGTERM, sending SIGKILL" >&2
        kill -KILL "$pid" 2>/dev/null
      fi
    fi
  done
  : > "$PIDS"
fi

if [ "${2:-}" = "--purge" ]; then
  rm -rf -- "$DIR"
fi
exit 0
