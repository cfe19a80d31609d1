#!/usr/bin/env bash
# bench/render: folio render against Scribus on a text-heavy 10-page document.
#
#   bench/render/run.sh [BUILD_DIR]        (default: build; needs client/folio)
#
# Whole processes, wall clock, same run, same machine:
#   folio render doc.json --format pdf          vs  Scribus: open our .sla + export PDF
#   folio render doc.json --format png --dpi 150 vs Scribus: open our .sla + export PNG @150
# and the PNG encoder alone (bench_render_png: folio's encoder vs cairo's on one
# rasterized A4 page). Each folio figure is the median of 5 runs, each Scribus
# figure the median of 3. Prints ratios; the target is >= 10x faster than Scribus
# end to end and <= 40 ms to encode an A4 page at 150 dpi.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
folio=$build/client/folio
[ -x "$folio" ] || { echo "run.sh: $folio not built (cmake --build $build)" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pages=${FOLIO_BENCH_PAGES:-10}

/usr/bin/python3 "$root/bench/render/make_doc.py" "$tmp/doc.json" "$pages"
"$folio" render "$tmp/doc.json" --format sla --out "$tmp" >/dev/null

# median wall time in seconds of N runs of a command
median() {
  local n=$1; shift
  local times=()
  for _ in $(seq "$n"); do
    local t0 t1
    t0=$(date +%s.%N)
    "$@" >/dev/null 2>&1 || { echo "run.sh: failed: $*" >&2; exit 1; }
    t1=$(date +%s.%N)
    times+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", b - a}')")
  done
  printf '%s\n' "${times[@]}" | sort -g | awk '{a[NR]=$1} END {printf "%.3f", a[int((NR+1)/2)]}'
}

scribus_run() { # mode
  mkdir -p "$tmp/s-$1" "$tmp/home"
  env HOME="$tmp/home" XDG_CONFIG_HOME="$tmp/home/.config" XDG_CACHE_HOME="$tmp/home/.cache" \
    XDG_RUNTIME_DIR="$tmp/home" TMPDIR="$tmp/home" QT_QPA_PLATFORM=offscreen \
    timeout -k 10 300 scribus -g -ns -py "$root/bench/render/scribus_export.py" "$1" "$tmp/document.sla" "$tmp/s-$1" 150
  # Scribus exits 0 even when its script fails: check the output exists
  if [ "$1" = pdf ]; then [ -s "$tmp/s-pdf/scribus.pdf" ]; else [ -s "$tmp/s-png/scribus-0001.png" ]; fi
}

echo "document: $pages A4 pages of justified text ($(wc -c <"$tmp/doc.json") bytes of JSON); $(nproc) CPUs; load: $(cut -d' ' -f1-3 /proc/loadavg)"
f_pdf=$(median 5 "$folio" render "$tmp/doc.json" --format pdf --out "$tmp/f")
f_png=$(median 5 "$folio" render "$tmp/doc.json" --format png --dpi 150 --out "$tmp/f")
f_png1=$(median 3 "$folio" render "$tmp/doc.json" --format png --dpi 150 --threads 1 --out "$tmp/f")
s_pdf=$(median 3 scribus_run pdf)
s_png=$(median 3 scribus_run png)
pdf_pages=$(pdfinfo "$tmp/s-pdf/scribus.pdf" | awk '/^Pages:/ {print $2}')
[ "$pdf_pages" = "$pages" ] || { echo "run.sh: Scribus' PDF has $pdf_pages pages, not $pages" >&2; exit 1; }

ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.1f", a / b}'; }
per_page() { awk -v a="$1" -v n="$pages" 'BEGIN {printf "%.1f", a * 1000 / n}'; }
printf '\n%-44s %8s %10s\n' "end to end (whole processes)" "seconds" "ms/page"
printf '%-44s %8s %10s\n' "folio render --format pdf" "$f_pdf" "$(per_page "$f_pdf")"
printf '%-44s %8s %10s\n' "Scribus: open .sla + export PDF" "$s_pdf" "$(per_page "$s_pdf")"
printf '%-44s %8s %10s\n' "folio render --format png --dpi 150" "$f_png" "$(per_page "$f_png")"
printf '%-44s %8s %10s\n' "folio ... png --dpi 150 --threads 1" "$f_png1" "$(per_page "$f_png1")"
printf '%-44s %8s %10s\n' "Scribus: open .sla + export PNG @150" "$s_png" "$(per_page "$s_png")"
printf '\nratios (Scribus / folio; target >= 10):\n'
printf '  PDF: %sx   PNG@150: %sx   PNG parallel speed-up (1 thread / all): %sx\n' \
  "$(ratio "$s_pdf" "$f_pdf")" "$(ratio "$s_png" "$f_png")" "$(ratio "$f_png1" "$f_png")"

if [ -x "$build/bench/render/bench_render_png" ]; then
  echo
  "$build/bench/render/bench_render_png" "$tmp/doc.json" 150 7
fi
