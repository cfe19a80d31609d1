#!/usr/bin/env bash
# Prints a candidate TCP port on 127.0.0.1 that nothing listens on right now.
#
# Only for the up-scripts of services that cannot bind port 0 and report the
# port they got (pg-up.sh, redis-up.sh, rgw-up.sh): each wraps it in a retry
# loop, because another process may bind the port before the service does
# (tests run in parallel). Anything that can bind port 0 itself must do that
# instead (folio-server: FOLIO_LISTEN=127.0.0.1:0 and its "listening" line;
# see tests/README.md).
#
# Candidates come from 10000-19999: below the ports Ceph's OSDs take for
# themselves in rgw-up.sh (20000-30000) and below the kernel's ephemeral range
# (ip_local_port_range, 32768+ by default), where the source port of any
# outgoing connection makes bind() fail although nothing listens there.
set -euo pipefail
lo=10000 hi=20000
eph=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
[ "$eph" -gt "$lo" ] && [ "$eph" -lt "$hi" ] && hi=$eph
for _ in $(seq 1 50); do
  p=$(( lo + (RANDOM * 32768 + RANDOM) % (hi - lo) ))
  if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
    echo "$p"
    exit 0
  fi
done
echo "free-port.sh: no free port found" >&2
exit 1
