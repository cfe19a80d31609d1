#!/usr/bin/env bash
# Prints a candidate TCP port on 127.0.0.1 that nothing listens on right now.
#
# Only for the up-scripts of services that cannot bind port 0 and report the
# port they got (pg-up.sh, redis-up.sh, rgw-up.sh): each wraps it in a retry
# loop, because another process may bind the port before the service does
# (tests run in parallel). Anything that can bind port 0 itself must do that
# instead (folio-server: FOLIO_LISTEN=127.0.0.1:0 and its "listening" line;
# see tests/README.md).
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
