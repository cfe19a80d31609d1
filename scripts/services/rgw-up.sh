#!/usr/bin/env bash
# rgw-up.sh DATA_DIR [PORT]
#
# Bring up a throwaway single-node Ceph cluster (1 mon, 1 memstore OSD,
# no cephx) plus a RADOS Gateway (beast frontend) listening on
# 127.0.0.1:PORT, create an S3 user with fixed keys, and print export lines.
# PORT omitted or 0: a port is picked (the chosen one is in DATA_DIR/port).
#
# Ports: neither ceph-mon nor radosgw can bind port 0 and report it, so a
# candidate from free-port.sh is tried; another process may bind it first
# (tests run in parallel, possibly another test's Ceph, which would answer
# too). A daemon counts as up only once its own pid owns the listening socket
# (ss); when it logs that the address is in use it is stopped and started
# again on another port (up to PORT_TRIES, 8). Any other failure ends the
# script at once. A port given explicitly (PORT, MON_PORT) is never changed.
#
# Everything (config, mon store, logs, sockets, PIDs) lives under DATA_DIR.
# Stop with: scripts/services/rgw-down.sh DATA_DIR
# (Adapted from the team's research notes, notes/s3-servers.md.)
#
# Requires Debian packages: ceph-mon ceph-osd radosgw ceph-common (16.2.x).
# Env overrides:
#   MON_PORT      monitor v2 port (default: picked as for PORT 0)
#   OBJECTSTORE   memstore (default, data in RAM) | bluestore (file-backed)
#                 | filestore (directory)
#   MEMSTORE_BYTES  memstore capacity (default 2 GiB, only counted, not allocated)
#   S3_ACCESS_KEY / S3_SECRET_KEY  (default folio-test / folio-test-secret-key)
#   RGW_DNS_NAME  host suffix for virtual-host style buckets (default localhost)
#   RGW_TIMEOUT   seconds to wait for everything (default 180)
set -euo pipefail

if [ $# -lt 1 ]; then
  echo "usage: $0 DATA_DIR [PORT]" >&2
  exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
DIR=$(mkdir -p "$1" && cd "$1" && pwd)
PORT=${2:-0}
TRIES=${PORT_TRIES:-8}
ACCESS=${S3_ACCESS_KEY:-folio-test}
SECRET=${S3_SECRET_KEY:-folio-test-secret-key}
STORE=${OBJECTSTORE:-memstore}
TIMEOUT=${RGW_TIMEOUT:-180}

for b in ceph-mon ceph-osd radosgw radosgw-admin monmaptool ceph ss; do
  command -v "$b" >/dev/null || { echo "missing $b (apt-get install ceph-mon ceph-osd radosgw ceph-common iproute2)" >&2; exit 1; }
done

# refuse to start twice in one dir (a PID counts only if its command line
# still mentions this dir, so stale PID files from a crashed run are ignored)
if [ -s "$DIR/pids" ]; then
  while read -r pid name; do
    if tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$DIR/"; then
      echo "$name (pid $pid) from $DIR is still running: run rgw-down.sh $DIR first" >&2
      exit 1
    fi
  done < "$DIR/pids"
fi

T0=$(date +%s%N)
log() { local ms=$(( ($(date +%s%N) - T0) / 1000000 )); printf '[rgw-up %d.%03ds] %s\n' $((ms/1000)) $((ms%1000)) "$*" >&2; }

if [ "$PORT" != 0 ] && (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
  echo "port $PORT on 127.0.0.1 is already in use" >&2
  exit 1
fi

# throwaway cluster: wipe any state left by a previous run in this dir
rm -rf -- "$DIR"/mon "$DIR"/osd0 "$DIR"/osd0.block "$DIR"/run "$DIR"/rgw "$DIR"/log "$DIR"/monmap \
          "$DIR"/ceph.conf "$DIR"/user.json "$DIR"/port
mkdir -p "$DIR"/{mon,osd0,run,log,rgw}
: > "$DIR/pids"
CONF=$DIR/ceph.conf
FSID=$(cat /proc/sys/kernel/random/uuid)

cat > "$CONF" <<EOF
[global]
fsid = $FSID
# the mon host and rgw frontends ports are set per attempt (see the top)
mon host = v2:127.0.0.1:0
public addr = 127.0.0.1
public network = 127.0.0.0/8
ms bind ipv4 = true
ms bind ipv6 = false
ms bind port min = 20000
ms bind port max = 30000
auth cluster required = none
auth service required = none
auth client required = none
auth supported = none
keyring = /dev/null
run dir = $DIR/run
admin socket = $DIR/run/\$name.asok
log file = $DIR/log/\$name.log
log to stderr = false
err to stderr = true
log to syslog = false
mon cluster log to syslog = false
mon cluster log file = $DIR/log/cluster.log
crash dir = $DIR/run/crash
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon allow pool delete = true
mon max pg per osd = 1000
# commit mon changes (pool creation etc.) quickly instead of ~1 s per command
paxos propose interval = 0.05
paxos min wait = 0.01
mon warn on pool no redundancy = false
mon data avail warn = 1
mon data avail crit = 0
osd objectstore = $STORE
osd data = $DIR/osd0
osd journal = $DIR/osd0/journal
osd journal size = 100
memstore device bytes = ${MEMSTORE_BYTES:-2147483648}
bluestore block path = $DIR/osd0.block
bluestore block create = true
bluestore block size = 4294967296
bluestore fsck on mount = false
bluestore cache size = 134217728
osd memory target = 536870912
osd max object name len = 460
osd max object namespace len = 64
osd op num shards = 1
osd op num threads per shard = 2

[mon.a]
mon data = $DIR/mon

[client.rgw]
# radosgw's built-in defaults demand a "secure" mon connection and cephx;
# with auth = none only crc mode exists, so override both explicitly.
ms mon client mode = crc
auth client required = none
rgw frontends = beast endpoint=127.0.0.1:0
rgw data = $DIR/rgw
rgw thread pool size = 64
# virtual-host addressing: Host: <bucket>.<rgw dns name>[:port]; any other Host is path-style
rgw dns name = ${RGW_DNS_NAME:-localhost}
rgw enable usage log = false
rgw gc processor period = 60
rgw lc debug interval = 10
EOF

start_bg() { # name cmd...
  local name=$1; shift
  "$@" </dev/null >>"$DIR/log/$name.stdout" 2>&1 &
  echo "$! $name" >> "$DIR/pids"
}

fail() {
  echo "rgw-up: $*" >&2
  echo "--- logs in $DIR/log ---" >&2
  tail -n 20 "$DIR"/log/*.stdout 2>/dev/null >&2 || true
  # stop whatever we already started (PIDs in $DIR/pids), keep the logs
  "$(dirname "$0")/rgw-down.sh" "$DIR" >&2 || true
  exit 1
}

all_alive() {
  local pid name
  while read -r pid name; do
    kill -0 "$pid" 2>/dev/null || { echo "$name"; return 1; }
  done < "$DIR/pids"
}

wait_for() { # desc cmd...
  local desc=$1; shift
  local end=$(( $(date +%s) + TIMEOUT )) dead
  until "$@" >/dev/null 2>&1; do
    dead=$(all_alive) || fail "$dead exited while waiting for $desc (see $DIR/log/$dead.log)"
    [ "$(date +%s)" -lt "$end" ] || fail "timeout waiting for $desc"
    sleep 0.5
  done
}

# listening NAME PORT LOG: waits until the process last started as NAME (its
# Ceph log is DIR/log/LOG) owns the listening socket 127.0.0.1:PORT (returns
# 0), or logs that the address is in use (then it is killed and dropped from
# DIR/pids; returns 1). Fails the script when it exits for another reason or
# TIMEOUT passes.
listening() {
  local name=$1 port=$2 end=$(( $(date +%s) + TIMEOUT )) pid
  pid=$(awk -v n="$name" '$2 == n { p = $1 } END { print p }' "$DIR/pids")
  local logs=("$DIR/log/$3" "$DIR/log/$name.stdout")
  local alive
  until ss -Hltnp "sport = :$port" 2>/dev/null | grep -q "pid=$pid,"; do
    # liveness first, then the logs: a daemon that logs the error and exits
    # in between is still seen as having lost the race
    alive=1
    kill -0 "$pid" 2>/dev/null || alive=0
    [ $alive = 1 ] || wait "$pid" 2>/dev/null || true # it has flushed its log
    if grep -qE 'Address already in use|unable to bind|failed to bind' "${logs[@]}" 2>/dev/null; then
      kill -KILL "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
      sed -i "/^$pid /d" "$DIR/pids"
      return 1
    fi
    if [ $alive = 0 ]; then
      tail -n 15 "$DIR/log/$3" >&2 2>/dev/null || true
      fail "$name exited before it listened on $port (its log above: $DIR/log/$3)"
    fi
    [ "$(date +%s)" -lt "$end" ] || fail "timeout waiting for $name to listen on $port"
    sleep 0.2
  done
}

# next_port GIVEN: GIVEN when not 0, else a candidate from free-port.sh.
next_port() { if [ "$1" != 0 ]; then echo "$1"; else "$here/free-port.sh"; fi; }

# lost_race WHAT GIVEN TRY PORT: after a lost race, fails the script when the
# port was given or this was the last try; else says it and returns.
lost_race() {
  [ "$2" = 0 ] || fail "$1 port $4 is taken"
  [ "$3" -lt "$TRIES" ] || fail "$1 lost the race for its port $TRIES times (last: $4)"
  log "$1 port $4 was taken before it was bound; retrying on another"
}

CEPH=(ceph -c "$CONF" --connect-timeout 10)
set -E
trap 'fail "command failed at line $LINENO"' ERR

# --- monitor ---
given=${MON_PORT:-0}
for try in $(seq 1 "$TRIES"); do
  MON_PORT=$(next_port "$given")
  sed -i "s|^mon host = .*|mon host = v2:127.0.0.1:$MON_PORT|" "$CONF"
  rm -rf -- "$DIR/mon" "$DIR/log/mon.a.log" "$DIR/log/mon.a.stdout"
  mkdir -p "$DIR/mon"
  monmaptool --create --clobber --fsid "$FSID" --addv a "[v2:127.0.0.1:$MON_PORT]" "$DIR/monmap" >/dev/null
  ceph-mon -c "$CONF" --mkfs -i a --monmap "$DIR/monmap" >>"$DIR/log/mkfs.log" 2>&1 || fail "ceph-mon --mkfs failed"
  start_bg mon.a ceph-mon -c "$CONF" -i a -f
  listening mon.a "$MON_PORT" mon.a.log && break
  lost_race mon "$given" "$try" "$MON_PORT"
done
wait_for "mon" "${CEPH[@]}" mon stat
log "mon up on 127.0.0.1:$MON_PORT"

# --- OSD ---
OSD_UUID=$(cat /proc/sys/kernel/random/uuid)
OSD_ID=$("${CEPH[@]}" osd new "$OSD_UUID")
[ "$OSD_ID" = 0 ] || fail "unexpected osd id $OSD_ID"
ceph-osd -c "$CONF" -i 0 --mkfs --osd-uuid "$OSD_UUID" >>"$DIR/log/mkfs.log" 2>&1 || fail "ceph-osd --mkfs failed"
start_bg osd.0 ceph-osd -c "$CONF" -i 0 -f
osd_up() { "${CEPH[@]}" osd dump 2>/dev/null | grep -q '^osd.0 up *in'; }
wait_for "osd.0 up" osd_up
log "osd.0 ($STORE) up"

# --- RGW ---
given=$PORT
for try in $(seq 1 "$TRIES"); do
  PORT=$(next_port "$given")
  sed -i "s|^rgw frontends = .*|rgw frontends = beast endpoint=127.0.0.1:$PORT|" "$CONF"
  rm -f -- "$DIR/log/client.rgw.log" "$DIR/log/rgw.stdout"
  start_bg rgw radosgw -c "$CONF" -n client.rgw -f
  listening rgw "$PORT" client.rgw.log && break
  lost_race rgw "$given" "$try" "$PORT"
done
wait_for "rgw on port $PORT" curl -sf -o /dev/null "http://127.0.0.1:$PORT/"
log "rgw answering on 127.0.0.1:$PORT"

# --- S3 user ---
if ! radosgw-admin -c "$CONF" -n client.rgw --admin-socket= user info --uid=folio-test >/dev/null 2>&1; then
  radosgw-admin -c "$CONF" -n client.rgw --admin-socket= user create --uid=folio-test \
    --display-name="folio test" --access-key="$ACCESS" --secret-key="$SECRET" \
    >"$DIR/user.json" 2>>"$DIR/log/radosgw-admin.log" || fail "user create failed"
fi
log "user ready"
echo "$PORT" > "$DIR/port"

cat <<EOF
export FOLIO_S3_ENDPOINT=http://127.0.0.1:$PORT
export FOLIO_S3_ACCESS_KEY=$ACCESS
export FOLIO_S3_SECRET_KEY=$SECRET
export FOLIO_S3_REGION=us-east-1
EOF
