#!/usr/bin/env bash
# PDF profiles through folio-server and folio-worker on the throwaway stack
# (run under `scripts/stack.sh run pg,redis,s3 --`; the CLI tests' harness
# starts and stops the server and one worker). A PDF/A-2b job must give the
# very bytes `folio render --pdf-profile pdfa-2b` gives offline, pass the
# checks, and leave no temporary file; a job without a profile gives cairo's
# PDF as before; a PDF/UA-1 job of a layout without a language fails for
# good naming the field; a bad combination is INVALID_ARGUMENT at submit.
# The output preflight in the pipeline: the business card as PDF/X-4 with
# require_clean_preflight succeeds with its Trim/Bleed boxes in the stored
# PDF and no preflight finding in the job; a PDF/UA-1 job whose figures have
# no alt text fails as PREFLIGHT_FAILED when a clean preflight is required,
# and succeeds with the findings recorded when it is not.
#   e2e.sh FOLIO FOLIO_SERVER FOLIO_WORKER SOURCE_DIR
set -u
folio=$1 server=$2 worker=$3 src=$4
export TMPDIR=$(mktemp -d /tmp/folio-pdf-e2e-tmp.XXXXXX) # the worker's temporary files
. "$src/tests/integration/cli/harness.sh"
check=$src/tests/pdf/check_pdf.py
layout=$src/client/examples/layouts/example.json

expect 0 "submit --pdf-profile pdfa-2b --wait" -- "$folio" submit "$layout" --pdf-profile pdfa-2b --wait
id=$out
expect 0 "fetch the PDF/A job" -- "$folio" fetch "$id" --name document.pdf -o "$work/a.pdf"
expect 0 "the worker's PDF/A passes the checks" -- /usr/bin/python3 "$check" "$work/a.pdf" --profiles pdfa-2b
grep "^FAIL" <<<"$out"
expect 0 "the same profile offline" -- "$folio" render "$layout" --out "$work/offline" --pdf-profile pdfa-2b
cmp -s "$work/a.pdf" "$work/offline/document.pdf" && ok "worker and CLI give the same bytes" ||
  bad "the worker's PDF/A differs from the CLI's"
[ -z "$(ls -A "$TMPDIR")" ] && ok "the worker left no temporary file" || bad "left in TMPDIR: $(ls -A "$TMPDIR")"

expect 0 "submit without a profile --wait" -- "$folio" submit "$layout" --wait
expect 0 "fetch the plain job" -- "$folio" fetch "$out" --name document.pdf -o "$work/plain.pdf"
expect 0 "render without a profile offline" -- "$folio" render "$layout" --out "$work/plain"
cmp -s "$work/plain.pdf" "$work/plain/document.pdf" && ok "no profile: cairo's PDF, the same bytes as before" ||
  bad "the plain PDF differs"
expect 0 "the plain job is untouched" -- /usr/bin/python3 "$check" "$work/plain.pdf" --plain

expect 4 "a PDF/UA-1 job without a language fails" -- "$folio" submit "$layout" --pdf-profile pdfua-1 --wait
uaid=$out
expect 0 "status of the PDF/UA job" -- "$folio" status "$uaid"
has "$out" "INVALID_ARGUMENT" "the job failed with INVALID_ARGUMENT"
has "$out" "PDF/UA-1 needs the document language" "and says what is missing"
[ -z "$(ls -A "$TMPDIR")" ] && ok "no temporary file after the failure" || bad "left in TMPDIR: $(ls -A "$TMPDIR")"

# the findings a job recorded (jobs.findings, folio/findings.h's JSON)
findings() { psql "$FOLIO_DATABASE_URL" -Atc "SELECT coalesce(findings::text, '[]') FROM jobs WHERE id = '$1'"; }

card=$src/examples/business-card/card.json
expect 0 "the business card as PDF/X-4, clean preflight required" -- \
  "$folio" submit "$card" --pdf-profile pdfx-4 --require-clean-preflight --wait
cid=$out
expect 0 "fetch the card" -- "$folio" fetch "$cid" --name document.pdf -o "$work/card.pdf"
box() { pdfinfo -box "$1" | sed -n "s/^$2: *//p" | tr -s ' '; }
[ "$(box "$work/card.pdf" TrimBox)" = "34.50 34.50 275.45 190.41" ] && ok "the stored card has its TrimBox" ||
  bad "TrimBox: $(box "$work/card.pdf" TrimBox)"
[ "$(box "$work/card.pdf" BleedBox)" = "26.00 26.00 283.95 198.91" ] && ok "the stored card has its BleedBox" ||
  bad "BleedBox: $(box "$work/card.pdf" BleedBox)"
expect 0 "the stored card passes the PDF/X-4 checks" -- /usr/bin/python3 "$check" "$work/card.pdf" --profiles pdfx-4
grep "^FAIL" <<<"$out"
f=$(findings "$cid")
grep -q '"stage": *"preflight"' <<<"$f" && bad "the card's job has preflight findings: $f" || ok "no preflight finding in the card's job"
expect 0 "the card offline" -- "$folio" render "$card" --out "$work/card-offline" --pdf-profile pdfx-4
cmp -s "$work/card.pdf" "$work/card-offline/document.pdf" && ok "worker and CLI give the same card" ||
  bad "the worker's card differs from the CLI's"

# a figure without alt text under PDF/UA-1: the example with a language
/usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); d["meta"]["lang"]="en-GB"; json.dump(d, open(sys.argv[2], "w"))' \
  "$layout" "$work/noalt.json"
expect 4 "PDF/UA-1 without alt text, clean preflight required: fails" -- \
  "$folio" submit "$work/noalt.json" --pdf-profile pdfua-1 --require-clean-preflight --wait
nid=$out
expect 0 "status of the refused job" -- "$folio" status "$nid"
has "$out" "PREFLIGHT_FAILED" "the job failed with PREFLIGHT_FAILED"
has "$out" "PDF_UA_FIGURE_NO_ALT" "naming the first finding"
has "$(findings "$nid")" "PDF_UA_FIGURE_NO_ALT" "the findings are in the job"
expect 3 "no artifact to fetch from the refused job" -- "$folio" fetch "$nid" --name document.pdf -o "$work/refused.pdf"
has "$err" "is FAILED" "the fetch says the job failed"
expect 0 "the same without require_clean_preflight: succeeds" -- "$folio" submit "$work/noalt.json" --pdf-profile pdfua-1 --wait
has "$(findings "$out")" '"code": "PDF_UA_FIGURE_NO_ALT"' "with the preflight's findings recorded"
[ -z "$(ls -A "$TMPDIR")" ] && ok "no temporary file after the preflight jobs" || bad "left in TMPDIR: $(ls -A "$TMPDIR")"

rm -rf "$TMPDIR"
finish
