#!/usr/bin/env bash
# PDF profiles through folio-server and folio-worker on the throwaway stack
# (run under `scripts/stack.sh run pg,redis,s3 --`; the CLI tests' harness
# starts and stops the server and one worker). A PDF/A-2b job must give the
# very bytes `folio render --pdf-profile pdfa-2b` gives offline, pass the
# checks, and leave no temporary file; a job without a profile gives cairo's
# PDF as before; a PDF/UA-1 job of a layout without a language fails for
# good naming the field; a bad combination is INVALID_ARGUMENT at submit.
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

rm -rf "$TMPDIR"
finish
