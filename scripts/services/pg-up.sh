#!/usr/bin/env bash
# Starts a throwaway PostgreSQL 15 in DATA_DIR, listening on 127.0.0.1:PORT
# (a free port when PORT is omitted or 0) and on a unix socket in DATA_DIR.
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

for try in 1 2 3 4 5; do
  p=$port
  [ "$p" != 0 ] || p=$("$here/free-port.sh")
  if "${as[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 30 start \
      -o "-c listen_addresses=127.0.0.1 -p $p -c unix_socket_directories='$dir' \
          -c fsync=${PG_FSYNC:-off} -c max_connections=${PG_MAX_CONNECTIONS:-120} \
          -c shared_buffers=32MB -c log_min_messages=warning" >/dev/null 2>&1; then
    port=$p
    break
  fi
  if [ "$port" != 0 ] || [ "$try" = 5 ]; then
    echo "pg-up.sh: postgres did not start on port $p:" >&2
    tail -n 20 "$dir/postgres.log" >&2 || true
    exit 1
  fi
done
"${as[@]}" "$bin/createdb" -h "$dir" -p "$port" -U folio folio
echo "$port" >"$dir/port"
echo "pg-up.sh: PostgreSQL on 127.0.0.1:$port (data in $dir/data)" >&2
echo "export FOLIO_DATABASE_URL='postgresql://folio@127.0.0.1:$port/folio'"
