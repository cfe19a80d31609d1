# Sourced by the CLI integration tests (run under `scripts/stack.sh run
# pg,redis,s3 --`): sets up $work (removed on exit), migrates, creates the API
# keys $key (exported as FOLIO_API_KEY) and $other (another tenant), starts
# folio-server on a loopback port it binds itself (FOLIO_ADDR) and one folio-worker, waits
# until the server answers, and stops exactly those two processes on exit.
# Needs: $folio $server $worker $src. Gives: ok/bad/expect/has/sha, $missing.
. "$(dirname "${BASH_SOURCE[0]}")/../../harness/checks.sh"

export FOLIO_API_KEY_PEPPER=cli-e2e-pepper-0123456789
export FOLIO_LOG_LEVEL=warn FOLIO_SHUTDOWN_GRACE_MS=2000 FOLIO_WORKERS=1

"$server" migrate >"$work/migrate.log" 2>&1 || { cat "$work/migrate.log"; exit 1; }
key=$("$server" apikey create --tenant cli-e2e 2>/dev/null) || { echo "apikey create failed"; exit 1; }
other=$("$server" apikey create --tenant cli-e2e-other 2>/dev/null) || exit 1
export FOLIO_API_KEY=$key

# The server binds port 0 and logs the port it got (a line at level info).
start_listening "$work/server.log" env FOLIO_LOG_LEVEL=info "$server" || exit 1
pids+=("$listen_pid")
export FOLIO_ADDR=$listen_addr
"$worker" >"$work/worker.log" 2>&1 &
pids+=($!)

missing=01900000-0000-7000-8000-000000000000
ready=0
for _ in $(seq 1 100); do
  "$folio" status $missing >/dev/null 2>&1; rc=$?
  [ $rc = 6 ] && { ready=1; break; }
  sleep 0.2
done
[ $ready = 1 ] || { echo "folio-server did not answer (last exit $rc)"; tail -20 "$work/server.log"; exit 1; }

# Prints the tally; on failure the server and worker logs too, and exits 1.
finish() {
  echo "$checks checks, $fails failed"
  if [ "$fails" != 0 ]; then
    echo "--- server log"; tail -30 "$work/server.log"; echo "--- worker log"; tail -30 "$work/worker.log"
    exit 1
  fi
}
