#!/usr/bin/env bash
# Every PDF profile and every combination, rendered offline by the CLI and
# checked with the real tools (check_pdf.py: qpdf --check, Ghostscript,
# pdfinfo -box, pdffonts, mutool, the XMP against Info, the OutputIntent's ICC
# header). Each is rendered twice: the bytes must be the same (/ID is
# deterministic). Then the refusals (PDF/UA without a language, missing or
# wrong ICC files) and lib/pdf's print boxes (test_pdf_finish's boxed.pdf).
#   profiles.sh FOLIO TEST_PDF_FINISH SOURCE_DIR
set -u
folio=$1 unit=$2 src=$3
. "$src/tests/harness/checks.sh"
check=$src/tests/pdf/check_pdf.py
example=$src/client/examples/layouts/example.json
special=$src/tests/pdf/special.json
title=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["meta"]["title"])' "$special")
author=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["meta"]["author"])' "$special")

# the C tests, which also write boxed.pdf: PDF/X-4 with 8.5 pt bleed, 17 pt slug
expect 0 "lib/pdf in process (test_pdf_finish)" -- "$unit" "$example" "$work"
expect 0 "boxed.pdf: PDF/X-4 with the print boxes asked for" -- /usr/bin/python3 "$check" "$work/boxed.pdf" \
  --profiles pdfx-4 --boxes "0 0 595.275591 841.889764|8.5 8.5 586.775591 833.389764|17 17 578.275591 824.889764"
has "$out" "all checks passed" "boxed.pdf: $(grep -c '^ok' <<<"$out") checks"

# no profile: cairo's PDF, untouched
expect 0 "render without a profile" -- "$folio" render "$example" --out "$work/plain"
expect 0 "no profile: no /ID, XMP or OutputIntent" -- /usr/bin/python3 "$check" "$work/plain/document.pdf" --plain

n=0
for combo in pdfa-2b pdfx-4 pdfua-1 pdfa-2b,pdfua-1 pdfx-4,pdfua-1 pdfa-2b,pdfx-4 pdfa-2b,pdfx-4,pdfua-1; do
  args=()
  for p in ${combo//,/ }; do args+=(--pdf-profile "$p"); done
  for doc in example special; do
    layout=$example; extra=()
    [ $doc = special ] && { layout=$special; extra=(--title "$title" --author "$author"); }
    d=$work/$doc-$combo
    expect 0 "$doc $combo: render" -- "$folio" render "$layout" --out "$d" --lang en-GB "${args[@]}"
    if [ $doc = example ] && [[ $combo == *pdfua-1* ]]; then
      # the example's two images have no alt text: PDF/UA-1 7.3-1 is broken,
      # and both the preflight and the checks say so, and nothing else
      has "$err" "folio render: error PDF_UA_FIGURE_NO_ALT page 1" "$doc $combo: the preflight reports the figure without alt"
      [ "$(grep -c '^folio render: error PDF_UA_' <<<"$err")" = 2 ] && ok "$doc $combo: two findings, one a figure" ||
        bad "$doc $combo: preflight findings: $err"
      expect 1 "$doc $combo: checks" -- /usr/bin/python3 "$check" "$d/document.pdf" --profiles "$combo" --lang en-GB "${extra[@]}"
      [ "$(grep '^FAIL' <<<"$out")" = "FAIL every Figure has /Alt (2 figures, 2 without)" ] &&
        ok "$doc $combo: only the figures' alt text fails" || bad "$doc $combo: $(grep '^FAIL' <<<"$out")"
    else
      # the preflight's findings are the PDF_* codes (the paint stage's, such
      # as the example's low-resolution picture, are not this test's)
      pf=$(grep -E '^folio render: [a-z]+ PDF_' <<<"$err" || true)
      [ -z "$pf" ] && ok "$doc $combo: the preflight is clean" || bad "$doc $combo: preflight: $pf"
      expect 0 "$doc $combo: checks" -- /usr/bin/python3 "$check" "$d/document.pdf" --profiles "$combo" --lang en-GB "${extra[@]}"
    fi
    grep -q "^FAIL" <<<"$out" && echo "$out" | grep "^FAIL"
    expect 0 "$doc $combo: render again" -- "$folio" render "$layout" --out "$d.2" --lang en-GB "${args[@]}"
    cmp -s "$d/document.pdf" "$d.2/document.pdf" && ok "$doc $combo: the same bytes twice" ||
      bad "$doc $combo: two renders differ"
    ls -A "$d" | grep -q '^\.' && bad "$doc $combo: a temporary file was left in $d" || true
    n=$((n + 1))
  done
done
[ $n = 14 ] && ok "14 renders checked" || bad "only $n renders"

# refusals
expect 4 "pdfua-1 without a language" -- "$folio" render "$example" --out "$work/ua" --pdf-profile pdfua-1
has "$err" "lang: PDF/UA-1 needs the document language" "the refusal names lang"
[ ! -e "$work/ua/document.pdf" ] && ok "no document.pdf after the refusal" || bad "document.pdf left behind"
expect 5 "a missing PDF/X output profile" -- env FOLIO_PDFX_OUTPUT_ICC=/nonexistent/press.icc \
  "$folio" render "$example" --out "$work/icc" --pdf-profile pdfx-4
has "$err" "output_icc_path: /nonexistent/press.icc" "the error names the ICC path"
[ -z "$(ls -A "$work/icc" 2>/dev/null)" ] && ok "nothing left in the output folder" || bad "files left: $(ls -A "$work/icc")"
expect 5 "an RGB profile as the PDF/X output profile" -- env FOLIO_PDFX_OUTPUT_ICC=/usr/share/color/icc/sRGB.icc \
  "$folio" render "$example" --out "$work/icc2" --pdf-profile pdfx-4
has "$err" "needed: colour space 'CMYK'" "the error says a CMYK profile is needed"
expect 2 "an unknown profile" -- "$folio" render "$example" --out "$work/u" --pdf-profile pdfa-1b
has "$err" "pdfa-2b, pdfx-4 or pdfua-1" "the usage error lists the profiles"
echo "$checks checks, $fails failed"
[ "$fails" = 0 ]
