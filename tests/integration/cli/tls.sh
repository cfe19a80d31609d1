#!/usr/bin/env bash
# The folio CLI over TLS end to end: run under `scripts/stack.sh run
# pg,redis,s3 --`. Makes a throwaway CA and a server certificate for
# 127.0.0.1 with openssl (in the stack's temp dir), starts folio-server with
# FOLIO_TLS_CERT/FOLIO_TLS_KEY and one folio-worker (harness.sh: stopped on
# exit), and drives submit --wait, fetch and url with the CA given by
# FOLIO_TLS_CA and by --tls-ca; a client without the CA, or trusting another
# CA, is refused.
#   tls.sh FOLIO FOLIO_SERVER FOLIO_WORKER SOURCE_DIR
set -u
folio=$1 server=$2 worker=$3 src=$4
certs=$FOLIO_STACK_DIR/tls
mkdir -p "$certs"
(
  cd "$certs" || exit 1
  ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
  openssl req -x509 "${ec[@]}" -keyout ca.key -out ca.pem -days 2 -subj '/CN=folio test CA' &&
    openssl req -x509 "${ec[@]}" -keyout other.key -out other.pem -days 2 -subj '/CN=another CA' &&
    openssl req "${ec[@]}" -keyout server.key -out server.csr -subj '/CN=localhost' &&
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' >server.ext &&
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem \
      -days 2 -extfile server.ext
) >"$FOLIO_STACK_DIR/openssl.log" 2>&1 || { cat "$FOLIO_STACK_DIR/openssl.log"; exit 1; }
export FOLIO_TLS_CERT=$certs/server.pem FOLIO_TLS_KEY=$certs/server.key FOLIO_TLS_CA=$certs/ca.pem
. "$(dirname "$0")/harness.sh" # waits for the server with FOLIO_TLS_CA: the handshake works

# the port speaks TLS with the certificate our CA signed (h2 by ALPN)
s_client=$(timeout 20 openssl s_client -connect "$FOLIO_ADDR" -CAfile "$certs/ca.pem" \
  -verify_return_error -alpn h2 </dev/null 2>&1 | tr -d '\000')
has "$s_client" "Verify return code: 0 (ok)" "openssl verifies the server's certificate against the CA"
has "$s_client" "ALPN protocol: h2" "the server negotiates HTTP/2 over TLS"

layout=$src/client/examples/layouts/example.json
expect 0 "submit --wait over TLS" -- timeout 120 "$folio" submit "$layout" --format pdf,png --dpi 72 --wait
id=$out
has "$err" "$id SUCCEEDED" "the job SUCCEEDED"
expect 0 "status --json over TLS" -- "$folio" status "$id" --json
echo "$out" >"$work/status.json"
want_sha() { /usr/bin/python3 -c 'import json,sys; print(next(a["sha256_hex"] for a in json.load(open(sys.argv[1]))["artifacts"] if a["name"]==sys.argv[2]))' "$work/status.json" "$1"; }

# --tls-ca instead of the environment
expect 0 "fetch --out DIR with --tls-ca" -- env -u FOLIO_TLS_CA timeout 60 "$folio" fetch "$id" \
  --out "$work/all" --tls-ca "$certs/ca.pem"
for n in document.pdf page-0001.png; do
  [ "$(sha "$work/all/$n")" = "$(want_sha "$n")" ] && ok "$n fetched over TLS, sha256 matches" ||
    bad "$n differs"
done
expect 0 "url over TLS" -- timeout 60 "$folio" url "$id" --name document.pdf --ttl 2m
code=$(curl -s -o "$work/url.pdf" -w '%{http_code}' --max-time 20 "$out")
[ "$code" = 200 ] && [ "$(sha "$work/url.pdf")" = "$(want_sha document.pdf)" ] &&
  ok "the signed URL works with curl" || bad "signed URL: HTTP $code"

cat "$certs/other.pem" "$certs/ca.pem" >"$certs/bundle.pem"
expect 0 "a CA bundle holding the right CA" -- timeout 60 "$folio" status "$id" --tls-ca "$certs/bundle.pem"

# refused: plaintext to a TLS port, a CA that did not sign the server's
# certificate, a CA file that does not exist
expect 8 "plaintext client to the TLS server" -- env -u FOLIO_TLS_CA timeout 60 "$folio" status "$id"
expect 8 "a client trusting another CA" -- timeout 60 "$folio" status "$id" --tls-ca "$certs/other.pem"
expect 5 "a missing CA file" -- "$folio" status "$id" --tls-ca "$certs/nope.pem"
has "$err" "nope.pem" "the error names the missing CA file"

finish
