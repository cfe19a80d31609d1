#!/bin/sh
# examples/business-card rendered by the folio CLI: the PDF's MediaBox is the
# trim plus bleed and slug on every side (pdfinfo -box), the PNG is the trimmed
# card, with --png-include-bleed the bleed box whose edge is the background's
# colour, and the .sla carries the bleed and the PDF/X-4 export settings.
#   example_card.sh FOLIO EXAMPLES_DIR
set -eu
folio=$1
card=$2/business-card/card.json
out=$(mktemp -d /tmp/folio-card-XXXXXX)
trap 'rm -rf "$out"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$folio" render "$card" --format pdf,png,sla --dpi 72 --out "$out" >/dev/null
# (85 x 55 mm) + 2 x (3 mm + 26 pt) = 309.95 x 224.91 pt
box=$(pdfinfo -box "$out/document.pdf" | awk '/^MediaBox:/ {print $4 - $2, $5 - $3}')
echo "$box" | awk '{w = 91 * 72 / 25.4 + 52; h = 61 * 72 / 25.4 + 52
                    exit !($1 - w < 0.01 && w - $1 < 0.01 && $2 - h < 0.01 && h - $2 < 0.01)}' ||
  fail "MediaBox $box"
pdfinfo "$out/document.pdf" | grep -q '^Title: *Business card: Ada Example' || fail "title"

size() { python3 -c 'import struct,sys; d=open(sys.argv[1],"rb").read(24); print("%dx%d" % struct.unpack(">II", d[16:24]))' "$1"; }
# trimmed: 85 x 55 mm at 72 dpi = 241 x 156 px
[ "$(size "$out/page-0001.png")" = "241x156" ] || fail "PNG $(size "$out/page-0001.png")"
"$folio" render "$card" --format png --dpi 72 --png-include-bleed --out "$out/bleed" >/dev/null
# 91 x 61 mm = 258 x 173 px
[ "$(size "$out/bleed/page-0001.png")" = "258x173" ] || fail "PNG with bleed $(size "$out/bleed/page-0001.png")"

grep -q 'BleedTop="8.5039" BleedLeft="8.5039" BleedRight="8.5039" BleedBottom="8.5039"' "$out/document.sla" ||
  fail ".sla bleed"
grep -q '<PDF Version="10" PrintP="ISO Coated v2 300% (basICColor)" UseProfiles="1"' "$out/document.sla" ||
  fail ".sla PDF/X-4 settings"
grep -q 'useDocBleeds="1" BTop="8.5039"' "$out/document.sla" || fail ".sla PDF bleed"
grep -q 'cropMarks="1" bleedMarks="0" registrationMarks="0" colorMarks="0" docInfoMarks="0" markLength="20" markOffset="6"' \
  "$out/document.sla" || fail ".sla marks"
echo "example business card: ok"
