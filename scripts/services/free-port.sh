#!/usr/bin/env bash
# Prints a TCP port on 127.0.0.1 that nothing listens on right now. The caller
# binds it soon after; a lost race shows up as a start failure it may retry.
set -euo pipefail
for _ in $(seq 1 50); do
  p=$(( 20000 + (RANDOM * 32768 + RANDOM) % 40000 ))
  if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
    echo "$p"
    exit 0
  fi
done
echo "free-port.sh: no free port found" >&2
exit 1
