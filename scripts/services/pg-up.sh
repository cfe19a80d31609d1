#!/usr/bin/env bash
# Starts a throwaway PostgreSQL 15 in DATA_DIR, listening on 127.0.0.1:PORT
# and on a unix socket in DATA_DIR. PORT omitted or 0: a port is picked, and
# picked again (up to PG_PORT_TRIES, 8) when another process binds it first.
#
#   eval "$(scripts/services/pg-up.sh DATA_DIR [PORT])"   # sets FOLIO_DATABASE_URL
#   scripts/services/pg-down.sh DATA_DIR [--purge]
#
# Stdout carries only the `export FOLIO_DATABASE_URL=...` line; progress and
# errors go to stderr. Trust authentication on loopback only; the superuser is
# `folio`, the database `folio`. fsync is off unless PG_FSYNC=on: the data is
# thrown away, and tests must not depend on the disk's speed.
# As root the server runs as the `postgres` user (PostgreSQL refuses root),
# and DATA_DIR is handed to that user.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dir=${1:?usage: pg-up.sh DATA_DIR [PORT]}
port=${2:-0}
bin=${PG_BIN:-/usr/lib/postgresql/15/bin}
[ -x "$bin/postgres" ] || { echo "pg-up.sh: no PostgreSQL in $bin (apt-get install postgresql)" >&2; exit 1; }
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

as=()
if [ "$(id -u)" = 0 ]; then
  user=${PG_RUN_AS:-postgres}
  chown "$user" "$dir"
  as=(runuser -u "$user" --)
  "${as[@]}" test -w "$dir" || {
    echo "pg-up.sh: user $user cannot reach $dir; make its parent folders searchable (chmod o+x, e.g. mktemp -d then chmod 711)" >&2
    exit 1; }
fi

rm -rf "$dir/data"
"${as[@]}" "$bin/initdb" -D "$dir/data" -U folio --auth=trust -E UTF8 --locale=C.UTF-8 \
  --no-instructions --no-sync >"$dir/initdb.log" 2>&1 \
  || { echo "pg-up.sh: initdb failed:" >&2; cat "$dir/initdb.log" >&2; exit 1; }

# PostgreSQL cannot bind port 0 and report it, so with PORT 0 a candidate from
# free-port.sh is tried; another process may bind it first (tests run in
# parallel). That lost race, and only that, is retried on another port:
# postgres then logs "could not bind" and exits, and pg_ctl -w fails (it waits
# for this data dir's own postmaster.pid to say ready, so a server of someone
# else on the port never passes for ours).
tries=${PG_PORT_TRIES:-8}
for try in $(seq 1 "$tries"); do
  p=$port
  [ "$p" != 0 ] || p=$("$here/free-port.sh")
  rm -f "$dir/postgres.log"
  if "${as[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 30 start \
      -o "-c listen_addresses=127.0.0.1 -p $p -c unix_socket_directories='$dir' \
          -c fsync=${PG_FSYNC:-off} -c max_connections=${PG_MAX_CONNECTIONS:-120} \
          -c shared_buffers=32MB -c log_min_messages=warning" >/dev/null 2>&1; then
    port=$p
    break
  fi
  lost=0
  grep -qE 'could not bind|Address already in use' "$dir/postgres.log" 2>/dev/null && lost=1
  if [ "$port" != 0 ] || [ $lost = 0 ] || [ "$try" = "$tries" ]; then
    why="did not start"
    [ $lost = 1 ] && why="lost the race for its port $try times (last: $p)"
    echo "pg-up.sh: postgres $why:" >&2
    tail -n 20 "$dir/postgres.log" >&2 || true
    # pg_ctl may have given up while postgres still starts: stop it.
    "${as[@]}" "$bin/pg_ctl" -D "$dir/data" -m immediate -w -t 10 stop >/dev/null 2>&1 || true
    exit 1
  fi
  echo "pg-up.sh: port $p was taken before postgres bound it; retrying on another" >&2
done
"${as[@]}" "$bin/createdb" -h "$dir" -p "$port" -U folio folio
echo "$port" >"$dir/port"
echo "pg-up.sh: PostgreSQL on 127.0.0.1:$port (data in $dir/data)" >&2
echo "export FOLIO_DATABASE_URL='postgresql://folio@127.0.0.1:$port/folio'"
