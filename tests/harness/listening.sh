# Sourced by shell tests and benches that start folio-server (checks.sh
# sources it): start_listening, the shell twin of proc_spawn_listening in
# proc.h.
#
# A server binds port 0 itself and reports the port it got; a test never
# picks a "free" port first and hands it over, because a test running in
# parallel (ctest -j) can take it in between.
#
#   start_listening "$work/server.log" env FOLIO_LOG_LEVEL=info "$server" || exit 1
#   pids+=("$listen_pid"); export FOLIO_ADDR=$listen_addr
#
# start_listening LOG CMD [ARG...]: starts CMD in the background with
# FOLIO_LISTEN=127.0.0.1:0, stdout and stderr appended to LOG, and waits up
# to LISTEN_TIMEOUT seconds (default 30) for a line appended to LOG after the
# start that holds "msg":"listening" and "address":"HOST:PORT" (folio-server
# writes it at level info once it listens). Sets listen_pid and listen_addr
# and returns 0. When CMD exits first, or says nothing in time (then it is
# killed), prints why and the end of LOG on stderr and returns 1.
start_listening() {
  local log=$1 from=0 line rc=0
  shift
  [ -f "$log" ] && from=$(stat -c %s "$log")
  env FOLIO_LISTEN=127.0.0.1:0 "$@" >>"$log" 2>&1 &
  listen_pid=$!
  listen_addr=
  local end=$((SECONDS + ${LISTEN_TIMEOUT:-30}))
  while :; do
    line=$(tail -c +$((from + 1)) "$log" 2>/dev/null | grep -m1 '"msg":"listening"' || true)
    listen_addr=$(sed -n 's/.*"address":"\([^"]*:[0-9][0-9]*\)".*/\1/p' <<<"$line")
    [ -n "$listen_addr" ] && return 0
    if ! kill -0 "$listen_pid" 2>/dev/null; then
      wait "$listen_pid" 2>/dev/null || rc=$?
      echo "start_listening: $1 exited ($rc) before it listened; end of $log:" >&2
      break
    fi
    if [ "$SECONDS" -ge "$end" ]; then
      kill -KILL "$listen_pid" 2>/dev/null || true
      wait "$listen_pid" 2>/dev/null || true
      echo "start_listening: $1 logged no \"listening\" line with an address in" \
        "${LISTEN_TIMEOUT:-30} s (is FOLIO_LOG_LEVEL info?); end of $log:" >&2
      break
    fi
    sleep 0.05
  done
  tail -n 30 "$log" >&2 || true
  return 1
}
