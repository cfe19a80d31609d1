#!/usr/bin/env bash
# test_stack_sh.sh SOURCE_DIR: scripts/stack.sh fails at once when a service
# does not start (CMD never runs, what did start is stopped) and never passes
# the caller's FOLIO_* connection settings to CMD.
set -uo pipefail
root=${1:?usage: test_stack_sh.sh SOURCE_DIR}
. "$root/tests/harness/checks.sh"
stack=$root/scripts/stack.sh

# 1. The caller's settings do not reach CMD; the stack's do.
FOLIO_DATABASE_URL=postgresql://prod.example/folio FOLIO_S3_BUCKET=prod-bucket \
  FOLIO_S3_ENDPOINT=https://s3.example FOLIO_REDIS_URL=redis://prod.example/0 FOLIO_WORKERS=64 \
  expect 0 "run redis -- env" -- "$stack" run redis -- env
has "$out" '^FOLIO_REDIS_URL=redis://127.0.0.1:' "CMD sees the stack's Redis"
if grep -q 'prod\|FOLIO_DATABASE_URL\|FOLIO_S3_\|FOLIO_WORKERS' <<<"$out"; then
  bad "the caller's FOLIO_* settings reached CMD: $(grep FOLIO_ <<<"$out")"
else ok "no caller FOLIO_* setting reached CMD"; fi

# 2. An unknown service: exit 1, CMD not run, the Redis started before it stopped.
expect 1 "run redis,bogus fails" -- "$stack" run redis,bogus -- touch "$work/ran"
[ ! -e "$work/ran" ] && ok "CMD did not run" || bad "CMD ran although the stack did not start"
has "$err" "did not start" "says why"

# 3. A service that fails to start (no redis-server on PATH) after one that did.
chmod 711 "$work"  # pg-up runs tools as the postgres user
mkdir -p "$work/bin"
for d in /usr/local/sbin /usr/local/bin /usr/sbin /usr/bin /sbin /bin; do
  for f in "$d"/*; do
    n=${f##*/}
    [ "$n" = redis-server ] || [ -e "$work/bin/$n" ] || ln -s "$f" "$work/bin/$n"
  done
done
PATH=$work/bin FOLIO_DATABASE_URL=postgresql://prod.example/folio \
  expect 1 "run pg,redis without redis-server fails" -- "$stack" run pg,redis -- touch "$work/ran2"
[ ! -e "$work/ran2" ] && ok "CMD did not run" || bad "CMD ran although Redis did not start"
has "$err" "redis failed to start" "names the failed service"
dir=$(grep -o '/[^ ]*folio-stack\.[A-Za-z0-9]*' <<<"$err" | head -n1)
if [ -n "$dir" ] && pgrep -f "$dir/pg" >/dev/null; then bad "PostgreSQL of $dir still runs"
else ok "PostgreSQL started before the failure was stopped"; fi

# 4. `up` prints nothing on stdout when it fails (so `env=$(up) && eval` never evals a half stack).
expect 2 "up DIR redis,bogus fails (usage)" -- "$stack" up "$work/up" redis,bogus
[ -z "$out" ] && ok "up printed no exports" || bad "up printed: $out"
[ -s "$work/up/started" ] && bad "up left services recorded as started" || ok "up stopped what it started"

echo "$checks checks, $fails failed"
[ "$fails" = 0 ]
