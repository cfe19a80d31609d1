#!/usr/bin/env bash
# folio CLI end to end: run under `scripts/stack.sh run pg,redis,s3 --` (the
# FOLIO_* environment points at the throwaway stack). Starts folio-server on a
# loopback port it binds itself and one folio-worker, drives every CLI command against
# them and checks outputs and exit codes; stops exactly the two processes it
# started, also on failure.
#   e2e.sh FOLIO FOLIO_SERVER FOLIO_WORKER SOURCE_DIR
set -u
folio=$1 server=$2 worker=$3 src=$4
. "$(dirname "$0")/harness.sh"

layout=$src/client/examples/layouts/example.json

# submit --wait: job id on stdout, plain progress lines on stderr (not a tty)
expect 0 "submit --wait (pdf,png,sla)" -- "$folio" submit "$layout" --format pdf,png,sla --dpi 72 \
  --label run=e2e --idempotency-key e2e-1 --wait
id=$out
has "$id" '^[0-9a-f]\{8\}-[0-9a-f-]\{27\}$' "submit printed a job id ($id)"
has "$err" "$id SUCCEEDED" "progress lines end with SUCCEEDED"
[ "$(grep -c $'\r' <<<"$err")" = 0 ] && ok "no carriage returns when stderr is not a tty" || bad "bar drawn on a non-tty"

# the same idempotency key returns the same job
expect 0 "resubmit with the same idempotency key" -- "$folio" submit "$layout" --format pdf,png,sla \
  --idempotency-key e2e-1
[ "$out" = "$id" ] && ok "deduplicated to the same job" || bad "dedup gave $out, want $id"
has "$err" deduplicated "dedup is reported"

expect 0 "status" -- "$folio" status "$id"
has "$out" "SUCCEEDED" "status says SUCCEEDED"
has "$out" "document.pdf" "status lists document.pdf"
has "$out" "run=e2e" "status shows the label"
expect 0 "status --json" -- "$folio" status "$id" --json
echo "$out" >"$work/status.json"
names=$(/usr/bin/python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(" ".join(a["name"] for a in j["artifacts"]))' "$work/status.json")
[ "$names" = "document.pdf page-0001.png page-0002.png document.sla" ] && ok "json artifacts: $names" || bad "json artifacts: $names"
want_sha() { /usr/bin/python3 -c 'import json,sys; print(next(a["sha256_hex"] for a in json.load(open(sys.argv[1]))["artifacts"] if a["name"]==sys.argv[2]))' "$work/status.json" "$1"; }

expect 0 "watch of a finished job" -- "$folio" watch "$id"

# fetch --out DIR: every artifact, verified
expect 0 "fetch --out DIR" -- "$folio" fetch "$id" --out "$work/all"
[ "$(echo "$out" | wc -l)" = 4 ] && ok "fetch printed 4 paths" || bad "fetch printed: $out"
for n in $names; do
  [ "$(sha "$work/all/$n")" = "$(want_sha "$n")" ] && ok "$n sha256 matches status" || bad "$n sha256 differs"
done
head -c 5 "$work/all/document.pdf" | grep -q '%PDF-' && ok "document.pdf is a PDF" || bad "not a PDF"
grep -q '<SCRIBUSUTF8NEW' "$work/all/document.sla" && ok "document.sla is a Scribus document" || bad "not an SLA"

# whole fetch to a file, then a resumed one after truncation, then a corrupted full file
pdf=$work/doc.pdf
expect 0 "fetch -o FILE" -- "$folio" fetch "$id" --name document.pdf -o "$pdf"
size=$(stat -c %s "$pdf")
truncate -s $((size / 3)) "$pdf"
expect 0 "fetch resumes a truncated file" -- "$folio" fetch "$id" --name document.pdf -o "$pdf"
has "$err" "resumed at byte $((size / 3))" "resume offset reported"
[ "$(sha "$pdf")" = "$(want_sha document.pdf)" ] && ok "resumed file sha256 verified" || bad "resumed file differs"
printf 'XXXX' | dd of="$pdf" bs=1 seek=100 conv=notrunc status=none
expect 0 "fetch replaces a full-size corrupted file" -- "$folio" fetch "$id" --name document.pdf -o "$pdf"
[ "$(sha "$pdf")" = "$(want_sha document.pdf)" ] && ok "corrupted file re-fetched" || bad "corrupted file kept"
expect 6 "fetch of a missing artifact" -- "$folio" fetch "$id" --name nope.pdf -o "$work/nope"
has "$err" "NOT_FOUND" "missing artifact names NOT_FOUND"
[ ! -e "$work/nope" ] && ok "no file left for a missing artifact" || bad "file created for a missing artifact"

# signed URL: works with curl, tampered one is refused
expect 0 "url --ttl 90s" -- "$folio" url "$id" --name page-0001.png --ttl 90s
url=$out
code=$(curl -s -o "$work/url.png" -w '%{http_code}' "$url")
[ "$code" = 200 ] && [ "$(sha "$work/url.png")" = "$(want_sha page-0001.png)" ] &&
  ok "signed URL fetched with curl (200, sha256 matches)" || bad "signed URL: HTTP $code"
# the URL is signed for exactly the requested lifetime (a whole parameter,
# not a prefix: X-Amz-Expires=900, the default, must not pass for 90)
if grep -qE '[?&]X-Amz-Expires=90(&|$)' <<<"$url"; then ok "signed with X-Amz-Expires=90 (--ttl 90s)"
else bad "--ttl 90s not signed as X-Amz-Expires=90: $url"; fi
# change a signed parameter (the lifetime): the signature no longer matches
code=$(curl -s -o /dev/null -w '%{http_code}' "$(sed -E 's/([?&]X-Amz-Expires=)90(&|$)/\191\2/' <<<"$url")")
[ "$code" = 403 ] && ok "tampered signed URL refused (403)" || bad "tampered URL: HTTP $code"

# errors and their exit codes
expect 3 "cancel of a finished job" -- "$folio" cancel "$id"
has "$err" "FAILED_PRECONDITION" "cancel error names FAILED_PRECONDITION"
printf '{"version":1,"page":{"size":"A4"},"pages":[{"items":[{"type":"rect","x":1,"y":2,"w":-5,"h":3}]}]}' >"$work/bad.json"
expect 3 "invalid layout" -- "$folio" submit "$work/bad.json"
has "$err" "INVALID_ARGUMENT" "invalid layout names INVALID_ARGUMENT"
has "$err" "/pages/0/items/0" "invalid layout names the JSON Pointer"
expect 6 "status of a missing job" -- "$folio" status $missing
has "$err" "NOT_FOUND" "missing job names NOT_FOUND"
expect 6 "another tenant's job is NOT_FOUND" -- "$folio" status "$id" --key "$other"
expect 7 "wrong key" -- "$folio" status "$id" --key "folio_wrong_key_000000000000000000"
has "$err" "UNAUTHENTICATED" "wrong key names UNAUTHENTICATED"
expect 7 "no key" -- env -u FOLIO_API_KEY "$folio" status "$id"

# a job that fails while rendering: --wait exits 4 with the job's error
cat >"$work/overflow.json" <<'J'
{"version":1,"unit":"mm","page":{"size":"A4"},"styles":{"b":{"font":"DejaVu Sans","size":40}},
 "pages":[{"items":[{"type":"text","x":10,"y":10,"w":20,"h":8,"style":"b","overflow":"error",
 "text":"This text cannot possibly fit in a box this small"}]}]}
J
expect 4 "submit --wait of a job that fails" -- "$folio" submit "$work/overflow.json" --wait
has "$err" "FAILED" "failure reported with the job's state"
expect 3 "fetch of a failed job" -- "$folio" fetch "$out" -o "$work/failed.pdf"

# one page-range grammar (lib/layout/pagerange.c): `folio render --pages` and
# SubmitLayout's options.page_range accept and refuse exactly the same strings,
# on a 3-page document (a page past the end is refused by both)
printf '{"version":1,"page":{"size":"A6"},"pages":[{"items":[]},{"items":[]},{"items":[]}]}' >"$work/three.json"
agree=0 accepted=0
for spec in "" "1" "3" "1-3" "2-" "3-" "4-" "4" "1-4" "3-1" "0" "1," ",1" "1,,2" " 1 - 2 , 3 " \
            "2,1,2" "1-2,2-3" "01" "x" "1-x" "1 2" "-2" "+1" $'\t1' "1000001" "1-1000000"; do
  "$folio" render "$work/three.json" --pages "$spec" --out "$work/pr" >/dev/null 2>"$work/pr.err"
  local_rc=$?
  "$folio" submit "$work/three.json" --pages "$spec" >/dev/null 2>"$work/ps.err"
  remote_rc=$?
  if { [ $local_rc = 0 ] && [ $remote_rc = 0 ]; } || { [ $local_rc = 2 ] && [ $remote_rc = 3 ]; }; then
    agree=$((agree + 1))
    [ $local_rc = 0 ] && accepted=$((accepted + 1))
  else
    bad "--pages \"$spec\": render exit $local_rc, submit exit $remote_rc ($(cat "$work/pr.err" "$work/ps.err"))"
  fi
done
[ $agree = 26 ] && [ $accepted = 10 ] && ok "render and submit agree on all 26 page ranges (10 accepted)" ||
  bad "render and submit: $agree of 26 agree, $accepted accepted (want 10)"
# the edge cases by name
expect 0 "render --pages 2- (open range)" -- "$folio" render "$work/three.json" --pages 2- --format png --dpi 36 --out "$work/open"
[ -f "$work/open/page-0002.png" ] && [ -f "$work/open/page-0003.png" ] && [ ! -f "$work/open/page-0001.png" ] &&
  ok "2- renders pages 2 and 3" || bad "2- rendered: $(ls "$work/open")"
expect 0 "submit --pages 2- (open range)" -- "$folio" submit "$work/three.json" --pages 2-
expect 3 "submit --pages 4- (past the end)" -- "$folio" submit "$work/three.json" --pages 4-
has "$err" "page 4 is past the end" "the refusal names the page"

# a server nobody listens on
expect 8 "unavailable server" -- "$folio" status "$id" --addr 127.0.0.1:1

# on a terminal: a progress bar redrawn in place (script(1) gives a pty)
tty_out=$(script -qec "'$folio' watch $id" /dev/null 2>&1)
has "$tty_out" '\[#\{10,\}\] 100% SUCCEEDED' "the bar is full at SUCCEEDED"
tty_out=$(script -qec "'$folio' fetch $id --name page-0001.png -o '$work/tty.png'" /dev/null 2>&1)
has "$tty_out" 'page-0001.png \[#*' "fetch on a terminal shows a byte progress bar"

finish
