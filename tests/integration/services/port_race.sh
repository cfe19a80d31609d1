#!/usr/bin/env bash
# The port rule's two halves, without a stack (tests/README.md, "Ports"):
#  - start_listening (tests/harness/listening.sh) returns the address a server
#    reports in its "listening" line, and fails with the log when the server
#    exits first or says nothing in time;
#  - pg-up.sh and redis-up.sh, which cannot bind port 0, lose the race for
#    their first candidate port (free-port.sh, replaced here by one that hands
#    out a port this test holds open first) and start on another one; with
#    one try only, or an explicit port that is taken, they fail loudly.
#   port_race.sh SOURCE_DIR
set -u
src=$1
. "$src/tests/harness/checks.sh"

# ---- start_listening --------------------------------------------------------
fake='echo "{\"msg\":\"starting\"}"; echo "{\"msg\":\"listening\",\"address\":\"127.0.0.1:4242\"}"; exec sleep 60'
if start_listening "$work/ok.log" sh -c "$fake"; then
  pids+=("$listen_pid")
  [ "$listen_addr" = 127.0.0.1:4242 ] && ok "start_listening returns the reported address" ||
    bad "start_listening returned '$listen_addr'"
  grep -q FOLIO_LISTEN=127.0.0.1:0 "/proc/$listen_pid/environ" 2>/dev/null &&
    ok "the server was given FOLIO_LISTEN=127.0.0.1:0" || bad "FOLIO_LISTEN not 127.0.0.1:0"
else
  bad "start_listening failed on a server that said where it listens"
fi
# an earlier line in the same log does not count: only what the new one says
if LISTEN_TIMEOUT=1 start_listening "$work/ok.log" sleep 30 2>"$work/stale.err"; then
  bad "start_listening took a listening line written before the start"
else
  ok "a listening line from before the start does not count"
fi
LISTEN_TIMEOUT=20 start_listening "$work/exit.log" sh -c 'echo "cannot start: no database"; exit 3' \
  2>"$work/exit.err" && bad "start_listening returned 0 for a server that exited" ||
  { grep -q 'exited (3)' "$work/exit.err" && grep -q 'no database' "$work/exit.err" &&
    ok "a server that exits first: failure with its status and log" ||
    bad "exit failure message: $(cat "$work/exit.err")"; }
LISTEN_TIMEOUT=1 start_listening "$work/quiet.log" sleep 30 2>"$work/quiet.err" &&
  bad "start_listening returned 0 for a server that never listened" ||
  { kill -0 "$listen_pid" 2>/dev/null && bad "the silent server was left running" ||
    ok "a server that never says it listens is killed; failure: $(head -1 "$work/quiet.err")"; }

# ---- the up-scripts' retry -------------------------------------------------
# A port a parallel test took: a listening socket held for the whole test.
/usr/bin/python3 -c '
import socket, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen()
print(s.getsockname()[1], flush=True)
time.sleep(600)' >"$work/busy" &
pids+=($!)
for _ in $(seq 1 100); do [ -s "$work/busy" ] && break; sleep 0.05; done
busy=$(cat "$work/busy")
[ -n "$busy" ] || { echo "no busy port"; exit 1; }

# The up-scripts from a copy whose free-port.sh offers the busy port first.
svc=$work/svc
mkdir -p "$svc"
cp "$src"/scripts/services/*.sh "$svc/"
cat >"$svc/free-port.sh" <<EOT
#!/usr/bin/env bash
if [ ! -e "$work/offered" ]; then : >"$work/offered"; echo $busy; else exec "$src/scripts/services/free-port.sh"; fi
EOT
chmod 711 "$work" # PostgreSQL runs as the postgres user when we are root
started=()
stop_services() {
  local s
  for s in "${started[@]}"; do "$svc/${s%%:*}-down.sh" "${s#*:}" --purge >/dev/null 2>&1; done
}
trap 'stop_services; cleanup' EXIT

# up NAME DIR [PORT]: runs NAME-up.sh with a fresh offer; rc, stdout, stderr.
up() {
  rm -f "$work/offered"
  started+=("$1:$2")
  "$svc/$1-up.sh" "$2" ${3:+"$3"} >"$work/up.out" 2>"$work/up.err"; rc=$?
  out=$(cat "$work/up.out"); err=$(cat "$work/up.err")
}

up redis "$work/redis"
port=$(cat "$work/redis/port" 2>/dev/null)
[ $rc = 0 ] && [ -n "$port" ] && [ "$port" != "$busy" ] &&
  has "$err" "was taken before redis-server bound it" "redis-up.sh: lost port $busy, retried: Redis on $port" ||
  bad "redis-up.sh after a lost race: exit $rc, port '$port'; $err"
[ "$(redis-cli -s "$work/redis/redis.sock" ping 2>/dev/null)" = PONG ] &&
  has "$out" "redis://127.0.0.1:$port/0" "the URL names the port Redis got" || bad "Redis not answering: $out"
REDIS_PORT_TRIES=1 up redis "$work/redis1"
[ $rc = 1 ] && has "$err" "lost the race for its port 1 times" "redis-up.sh: out of tries, fails loudly" ||
  bad "redis-up.sh with 1 try: exit $rc; $err"
up redis "$work/redis2" "$busy"
[ $rc = 1 ] && [ ! -e "$work/offered" ] && ok "redis-up.sh: a given port that is taken fails, no other port tried" ||
  bad "redis-up.sh on a taken given port: exit $rc; $err"

up pg "$work/pg"
port=$(cat "$work/pg/port" 2>/dev/null)
[ $rc = 0 ] && [ -n "$port" ] && [ "$port" != "$busy" ] &&
  has "$err" "was taken before postgres bound it" "pg-up.sh: lost port $busy, retried: PostgreSQL on $port" ||
  bad "pg-up.sh after a lost race: exit $rc, port '$port'; $err"
has "$out" "@127.0.0.1:$port/folio" "the URL names the port PostgreSQL got"
PG_PORT_TRIES=1 up pg "$work/pg1"
[ $rc = 1 ] && has "$err" "lost the race for its port 1 times" "pg-up.sh: out of tries, fails loudly" ||
  bad "pg-up.sh with 1 try: exit $rc; $err"

echo "$checks checks, $fails failed"
[ "$fails" = 0 ]
