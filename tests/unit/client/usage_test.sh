#!/usr/bin/env bash
# The folio binary's argument handling: every malformed command line exits 2
# with a message naming the problem, before any connection is attempted
# (FOLIO_ADDR points at a port nobody listens on; a connection attempt would
# give 8 instead).
set -u
folio=$1
export FOLIO_ADDR=127.0.0.1:1
fails=0
expect() { # expect CODE PATTERN -- ARGS...
  local want=$1 pat=$2; shift 3
  local err rc
  err=$("$folio" "$@" 2>&1 >/dev/null); rc=$?
  if [ "$rc" != "$want" ] || ! grep -q -- "$pat" <<<"$err"; then
    echo "FAIL: folio $* -> exit $rc (want $want), stderr: $err"; fails=$((fails + 1))
  fi
}
expect 2 'unknown command' -- nosuch
expect 2 'layout file is required' -- submit
expect 2 'format "pdf,gif"' -- submit x.json --format pdf,gif
expect 2 'dpi "20"' -- submit x.json --dpi 20
expect 2 'KEY=VALUE' -- submit x.json --label novalue
expect 2 'unknown option' -- submit x.json --bogus
expect 2 'job id is required' -- status
expect 2 'unexpected argument' -- status a b
expect 2 'needs a value' -- status a --key
expect 2 'job id is required' -- watch
expect 2 'job id is required' -- cancel
expect 2 'exclude each other' -- fetch J -o f --out d
expect 2 'ttl "2w"' -- url J --ttl 2w
expect 2 'ttl "8d"' -- url J --ttl 8d
expect 2 '--name needs a value' -- fetch J --name
expect 2 'unexpected argument "--bogus"' -- fetch J --bogus
expect 5 'No such file' -- submit /nonexistent/layout.json
expect 5 'ca.pem: No such file' -- status J --tls-ca /nonexistent/ca.pem
expect 8 'UNAVAILABLE' -- status 0190aaaa-0000-7000-8000-000000000000
for c in submit status watch cancel fetch url; do
  "$folio" $c --help | grep -q "usage: folio $c" || { echo "FAIL: $c --help"; fails=$((fails + 1)); }
done
[ $fails = 0 ] && echo "ok: usage checks" || exit 1
