#!/usr/bin/env bash
# The three examples of issue 14 through `folio render`, checked with the real
# tools (check_pdf.py: qpdf --check, Ghostscript, pdffonts, pdfinfo -box,
# mutool, XMP/Info, PDF/UA content) and by folio's own output preflight, whose
# findings the CLI prints on stderr (none = clean):
#   examples/business-card  PDF/X-4: TrimBox/BleedBox are the card's geometry
#                           (pdfinfo -box), also without a profile
#   examples/letter-pdfa    PDF/A-2b
#   examples/accessible-report  PDF/UA-1 alone and with PDF/A-2b: every
#                           Figure has /Alt, the French quotation /Lang fr,
#                           no content outside marked content
# and --require-clean-preflight refusing a PDF/UA document whose figures
# have no alt text.
#   examples.sh FOLIO SOURCE_DIR
set -u
folio=$1 src=$2
. "$src/tests/harness/checks.sh"
check=$src/tests/pdf/check_pdf.py
ex=$src/examples

# pdfinfo -box's line for a box on page 1, e.g. "26.00 26.00 283.95 198.91"
box() { pdfinfo -box "$1" | sed -n "s/^$2: *//p" | tr -s ' '; }

# ---- the business card: 85 x 55 mm trim, 3 mm bleed, a 26 pt slug for the crop marks
card=$ex/business-card/card.json
media="0.00 0.00 309.95 224.91" bleed="26.00 26.00 283.95 198.91" trim="34.50 34.50 275.45 190.41"
expect 0 "card as PDF/X-4" -- "$folio" render "$card" --out "$work/card" --pdf-profile pdfx-4
[ -z "$err" ] && ok "card: the preflight is clean" || bad "card: $err"
expect 0 "card: the PDF/X-4 checks" -- /usr/bin/python3 "$check" "$work/card/document.pdf" --profiles pdfx-4 \
  --boxes "0 0 309.952756 224.913386|25.999999 25.999999 283.952756 198.913386|34.503937 34.503937 275.448819 190.409449"
grep "^FAIL" <<<"$out"
[ "$(box "$work/card/document.pdf" MediaBox)" = "$media" ] && ok "card: pdfinfo MediaBox $media" || bad "card: MediaBox $(box "$work/card/document.pdf" MediaBox)"
[ "$(box "$work/card/document.pdf" BleedBox)" = "$bleed" ] && ok "card: pdfinfo BleedBox $bleed" || bad "card: BleedBox $(box "$work/card/document.pdf" BleedBox)"
[ "$(box "$work/card/document.pdf" TrimBox)" = "$trim" ] && ok "card: pdfinfo TrimBox $trim" || bad "card: TrimBox $(box "$work/card/document.pdf" TrimBox)"
# without a profile the boxes are there too (lib/pdf has work: the boxes differ from the MediaBox)
expect 0 "card without a profile" -- "$folio" render "$card" --out "$work/card-plain"
[ "$(box "$work/card-plain/document.pdf" BleedBox)" = "$bleed" ] && [ "$(box "$work/card-plain/document.pdf" TrimBox)" = "$trim" ] &&
  ok "card without a profile: BleedBox and TrimBox" || bad "card without a profile: $(pdfinfo -box "$work/card-plain/document.pdf" | grep Box)"
# a plain page with a profile: TrimBox = BleedBox = MediaBox
expect 0 "a plain page as PDF/A-2b" -- "$folio" render "$ex/letter-pdfa/letter.json" --out "$work/letter" --pdf-profile pdfa-2b
[ -z "$err" ] && ok "letter: the preflight is clean" || bad "letter: $err"
m=$(box "$work/letter/document.pdf" MediaBox)
[ "$(box "$work/letter/document.pdf" TrimBox)" = "$m" ] && [ "$(box "$work/letter/document.pdf" BleedBox)" = "$m" ] &&
  ok "letter: TrimBox = BleedBox = MediaBox ($m)" || bad "letter: $(pdfinfo -box "$work/letter/document.pdf" | grep Box)"
expect 0 "letter: the PDF/A-2b checks" -- /usr/bin/python3 "$check" "$work/letter/document.pdf" --profiles pdfa-2b \
  --title 'Renewal of the archive contract' --author 'Nordarkiv AB'
grep "^FAIL" <<<"$out"

# ---- the accessible report
report=$ex/accessible-report/report.json
for combo in pdfua-1 pdfua-1,pdfa-2b; do
  args=()
  for p in ${combo//,/ }; do args+=(--pdf-profile "$p"); done
  d=$work/report-$combo
  expect 0 "report $combo" -- "$folio" render "$report" --out "$d" "${args[@]}"
  [ -z "$err" ] && ok "report $combo: the preflight is clean" || bad "report $combo: $err"
  expect 0 "report $combo: checks" -- /usr/bin/python3 "$check" "$d/document.pdf" --profiles "$combo" \
    --lang en-GB --figures 1 --elem-lang fr
  grep "^FAIL" <<<"$out"
  has "$out" "ok no painting operator outside marked content (0 found)" "report $combo: no unmarked content"
  expect 0 "report $combo: mutool reads the structure tree" -- mutool show "$d/document.pdf" trailer/Root/StructTreeRoot
  has "$out" "/K" "report $combo: StructTreeRoot has kids"
  expect 0 "report $combo: pdfinfo -struct" -- pdfinfo -struct "$d/document.pdf"
  has "$out" "Figure" "report $combo: the tree has the Figure"
  has "$(pdfinfo "$d/document.pdf")" "Tagged:          yes" "report $combo: pdfinfo says tagged"
done
# a page selection: the attributes the render reports are those of the pages
# rendered (the figure is on page 2, the French quotation on page 1)
expect 0 "report page 2 alone" -- "$folio" render "$report" --out "$work/report-p2" --pdf-profile pdfua-1 --pages 2
[ -z "$err" ] && ok "report page 2: the preflight is clean" || bad "report page 2: $err"
expect 0 "report page 2: checks" -- /usr/bin/python3 "$check" "$work/report-p2/document.pdf" --profiles pdfua-1 \
  --lang en-GB --figures 1
grep "^FAIL" <<<"$out"
expect 0 "report page 1 alone: checks" -- sh -c '"$0" render "$1" --out "$2" --pdf-profile pdfua-1 --pages 1 >/dev/null &&
  /usr/bin/python3 "$3" "$2/document.pdf" --profiles pdfua-1 --lang en-GB --figures 0 --elem-lang fr' \
  "$folio" "$report" "$work/report-p1" "$check"
grep "^FAIL" <<<"$out"
# the language comes from meta.lang; --lang overrides it
expect 0 "report with --lang en-US" -- "$folio" render "$report" --out "$work/report-us" --pdf-profile pdfua-1 --lang en-US
expect 0 "report --lang: checks" -- /usr/bin/python3 "$check" "$work/report-us/document.pdf" --profiles pdfua-1 --lang en-US
grep "^FAIL" <<<"$out"

# ---- --require-clean-preflight: figures without alt text fail PDF/UA-1
example=$src/client/examples/layouts/example.json
expect 4 "PDF/UA without alt text, clean preflight required" -- "$folio" render "$example" --out "$work/noalt" \
  --pdf-profile pdfua-1 --lang en-GB --require-clean-preflight
has "$err" "folio render: error PDF_UA_FIGURE_NO_ALT page 1" "the finding is printed"
has "$err" "--require-clean-preflight: the output preflight reported findings" "and the refusal"
[ -z "$(ls -A "$work/noalt")" ] && ok "no document.pdf (nor a temporary file) left" || bad "left: $(ls -A "$work/noalt")"
# a plain document through the preflight: the same bytes as without it
expect 0 "card, no profile, clean preflight required" -- "$folio" render "$card" --out "$work/card-clean" --require-clean-preflight
cmp -s "$work/card-clean/document.pdf" "$work/card-plain/document.pdf" && ok "the checked plain card is the same bytes" ||
  bad "the preflight changed the plain card"
echo "$checks checks, $fails failed"
[ "$fails" = 0 ]
