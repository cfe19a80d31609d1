#!/usr/bin/env bash
# `folio render` end to end: outputs and their names, PDF text/pages/metadata
# (pdftotext, pdfinfo), deterministic bytes, page selection, and the exit codes a
# script relies on (0 ok, 2 usage, 3 invalid layout, 4 render failure, 5 I/O).
#   cli_test.sh FOLIO_BINARY TESTS_RENDER_DIR
set -euo pipefail
folio=$1
docs=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
checks=0
ok() { checks=$((checks + 1)); }

# all three formats
"$folio" render "$docs/text.json" --format pdf,png,sla --out "$tmp/a" --dpi 50 >"$tmp/a.out"
for f in document.pdf page-0001.png page-0002.png document.sla; do
  [ -s "$tmp/a/$f" ] || fail "missing $f"
  grep -qx "$tmp/a/$f" "$tmp/a.out" || fail "$f not listed on stdout"
done; ok
[ "$(ls -A "$tmp/a" | wc -l)" = 4 ] || fail "unexpected files: $(ls -A "$tmp/a")"; ok
info=$(pdfinfo "$tmp/a/document.pdf")
grep -q '^Pages: *2$' <<<"$info" || fail "page count: $info"; ok
grep -q '^Title: *Golden: text$' <<<"$info" || fail "title: $info"; ok
grep -q '^Author: *folio tests$' <<<"$info" || fail "author: $info"; ok
fonts=$(pdffonts "$tmp/a/document.pdf")
if grep -v '^name\|^----' <<<"$fonts" | awk '{print $(NF-4)}' | grep -q no; then fail "a font is not embedded: $fonts"; fi; ok
grep -q '+DejaVuSans' <<<"$fonts" || fail "fonts are not subsets: $fonts"; ok
text=$(pdftotext -enc UTF-8 "$tmp/a/document.pdf" -)
for want in "Golden text page" "Кириллица" "中文" "bold" "shrunk until it fits"; do
  grep -qF "$want" <<<"$text" || fail "PDF text lacks \"$want\": $text"
done; ok
# the clipped box shows whole lines only: its last line is not in the PDF
if grep -qF "cuts lines off" <<<"$text"; then fail "clipped line is in the PDF text"; fi; ok
file "$tmp/a/page-0001.png" 2>/dev/null | grep -q "208 x 139" || [ "$(od -An -tu1 -j16 -N8 "$tmp/a/page-0001.png" | tr -s ' ')" = " 0 0 0 208 0 0 0 139" ] || fail "PNG size"; ok
head -c 100 "$tmp/a/document.sla" | grep -q '<SCRIBUSUTF8NEW Version="1.5.8">' || fail "SLA header"; ok

# deterministic: the same input gives the same bytes
"$folio" render "$docs/text.json" --format pdf,png,sla --out "$tmp/b" --dpi 50 >/dev/null
for f in document.pdf page-0001.png page-0002.png document.sla; do
  cmp -s "$tmp/a/$f" "$tmp/b/$f" || fail "$f differs between two runs"
done; ok

# page selection
"$folio" render "$docs/text.json" --format pdf,png --pages 2 --out "$tmp/c" --dpi 36 >/dev/null
[ -f "$tmp/c/page-0002.png" ] && [ ! -e "$tmp/c/page-0001.png" ] || fail "--pages 2 PNG names"; ok
pdfinfo "$tmp/c/document.pdf" | grep -q '^Pages: *1$' || fail "--pages 2 PDF"; ok

# exit codes
set +e
"$folio" render "$docs/text.json" --format gif --out "$tmp/d" 2>"$tmp/err"; rc=$?
[ $rc = 2 ] && grep -q 'unknown format "gif"' "$tmp/err" || fail "bad format: exit $rc $(cat "$tmp/err")"; ok
"$folio" render "$docs/text.json" --dpi 20 --out "$tmp/d" 2>"$tmp/err"; rc=$?
[ $rc = 2 ] || fail "dpi 20: exit $rc"; ok
"$folio" render "$docs/text.json" --pages 3 --out "$tmp/d" 2>"$tmp/err"; rc=$?
[ $rc = 2 ] && grep -q 'page 3 is past the end' "$tmp/err" || fail "--pages 3: exit $rc $(cat "$tmp/err")"; ok
"$folio" render 2>"$tmp/err"; rc=$?
[ $rc = 2 ] || fail "no input: exit $rc"; ok
printf '{"version": 1, "pages": [{"items": [{"type": "rect", "x": 0, "y": 0, "w": -5, "h": 1}]}]}' >"$tmp/bad.json"
"$folio" render "$tmp/bad.json" --out "$tmp/d" 2>"$tmp/err"; rc=$?
[ $rc = 3 ] && grep -q '^folio render: invalid layout: /pages/0/items/0/w: ' "$tmp/err" || fail "invalid layout: exit $rc $(cat "$tmp/err")"; ok
printf '{"version": 1, "pages": [{"items": [{"type": "rect", "x": 0, "y": 0, "w": 5, "h": 5}, {"type": "text", "x": 0, "y": 0, "w": 50, "h": 10, "overflow": "error", "text": "far too much text for this tiny box"}]}]}' >"$tmp/ov.json"
"$folio" render "$tmp/ov.json" --format pdf,sla --out "$tmp/e" 2>"$tmp/err"; rc=$?
[ $rc = 4 ] && grep -qx 'folio render: /pages/0/items/1: text overflows its box' "$tmp/err" || fail "overflow: exit $rc $(cat "$tmp/err")"; ok
[ -z "$(ls -A "$tmp/e")" ] || fail "a failed render left files: $(ls -A "$tmp/e")"; ok
"$folio" render "$tmp/missing.json" --out "$tmp/d" 2>"$tmp/err"; rc=$?
[ $rc = 5 ] || fail "missing input: exit $rc"; ok
touch "$tmp/notadir"
"$folio" render "$docs/shapes.json" --out "$tmp/notadir/x" 2>"$tmp/err"; rc=$?
[ $rc = 5 ] || fail "unwritable output: exit $rc $(cat "$tmp/err")"; ok
# findings: printed on stderr; --fail-on-warnings fails the render and keeps no file
printf '{"version": 1, "pages": [{"items": [{"type": "text", "x": 40, "y": 40, "w": 60, "h": 14, "text": "far too much text for so small a box"}, {"type": "rect", "x": -300, "y": 0, "w": 10, "h": 10}]}]}' >"$tmp/fnd.json"
"$folio" render "$tmp/fnd.json" --format pdf,png --dpi 36 --out "$tmp/f" >"$tmp/out" 2>"$tmp/err"; rc=$?
[ $rc = 0 ] || fail "findings alone fail the render: exit $rc $(cat "$tmp/err")"; ok
grep -q '^folio render: warning TEXT_OVERSET page 1 /pages/0/items/0: text overflows its box' "$tmp/err" || fail "no TEXT_OVERSET line: $(cat "$tmp/err")"; ok
grep -q '^folio render: warning OBJECT_OFF_PAGE page 1 /pages/0/items/1: ' "$tmp/err" || fail "no OBJECT_OFF_PAGE line: $(cat "$tmp/err")"; ok
[ "$(grep -c TEXT_OVERSET "$tmp/err")" = 1 ] || fail "findings reported twice (PDF and PNG): $(cat "$tmp/err")"; ok
grep -qx "$tmp/f/document.pdf" "$tmp/out" && [ -s "$tmp/f/page-0001.png" ] || fail "outputs with findings"; ok
"$folio" render "$tmp/fnd.json" --format pdf,png --dpi 36 --out "$tmp/g" --fail-on-warnings >"$tmp/out" 2>"$tmp/err"; rc=$?
[ $rc = 4 ] && grep -q -- '--fail-on-warnings: warning TEXT_OVERSET on page 1; no files kept' "$tmp/err" || fail "--fail-on-warnings: exit $rc $(cat "$tmp/err")"; ok
[ -z "$(ls -A "$tmp/g")" ] && [ ! -s "$tmp/out" ] || fail "--fail-on-warnings kept files: $(ls -A "$tmp/g") $(cat "$tmp/out")"; ok
"$folio" render "$docs/shapes.json" --out "$tmp/h" --fail-on-warnings >/dev/null 2>"$tmp/err"; rc=$?
[ $rc = 0 ] || fail "--fail-on-warnings on a clean document: exit $rc $(cat "$tmp/err")"; ok
set -e
echo "$checks checks passed"
