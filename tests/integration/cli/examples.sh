#!/usr/bin/env bash
# The Python and Node example clients (client/examples/) against a real
# folio-server + folio-worker: each submits the example layout, watches it and
# fetches every artifact (checking sha256). The fetched files must equal what
# `folio fetch` gets for the same job's artifacts (same sha256 as GetStatus).
#   examples.sh FOLIO FOLIO_SERVER FOLIO_WORKER SOURCE_DIR
set -u
folio=$1 server=$2 worker=$3 src=$4
. "$(dirname "$0")/harness.sh"
layout=$src/client/examples/layouts/example.json
ex=$src/client/examples

gen=$work/pygen
expect 0 "python stubs generated from protos/" -- "$ex/python/generate.sh" "$gen"
expect 0 "python example: submit -> watch -> fetch" -- env PYTHONPATH="$gen" /usr/bin/python3 \
  "$ex/python/folio_example.py" "$layout" "$work/py"
has "$out" "SUCCEEDED 100%" "python example saw SUCCEEDED"
[ "$(grep -c 'sha256 ok' <<<"$out")" = 4 ] && ok "python example fetched 4 verified artifacts" ||
  bad "python example output: $out"

if [ -d "$ex/node/node_modules/@grpc/grpc-js" ]; then
  expect 0 "node example: submit -> watch -> fetch" -- node "$ex/node/folio_example.js" "$layout" "$work/node"
  has "$out" "SUCCEEDED 100%" "node example saw SUCCEEDED"
  [ "$(grep -c 'sha256 ok' <<<"$out")" = 4 ] && ok "node example fetched 4 verified artifacts" ||
    bad "node example output: $out"
  for f in document.pdf page-0001.png page-0002.png document.sla; do
    [ "$(sha "$work/py/$f")" = "$(sha "$work/node/$f")" ] && ok "$f identical from both clients" ||
      bad "$f differs between the python and node runs"
  done
else
  bad "client/examples/node/node_modules missing: run scripts/deps.sh test (npm ci)"
fi
finish
