#!/usr/bin/env bash
# Stops the PostgreSQL that pg-up.sh started in DATA_DIR (only that one: pg_ctl
# reads DATA_DIR/data/postmaster.pid). --purge also removes DATA_DIR.
set -uo pipefail
dir=${1:?usage: pg-down.sh DATA_DIR [--purge]}
bin=${PG_BIN:-/usr/lib/postgresql/15/bin}
as=()
if [ "$(id -u)" = 0 ]; then as=(runuser -u "${PG_RUN_AS:-postgres}" --); fi
if [ -f "$dir/data/postmaster.pid" ]; then
  "${as[@]}" "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 20 stop >/dev/null 2>&1 \
    || "${as[@]}" "$bin/pg_ctl" -D "$dir/data" -m immediate -w -t 10 stop >/dev/null 2>&1 \
    || echo "pg-down.sh: could not stop PostgreSQL in $dir" >&2
fi
if [ "${2:-}" = --purge ]; then rm -rf "$dir"; fi
exit 0
