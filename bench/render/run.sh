#!/usr/bin/env bash
# bench/render: folio render against Scribus on a text-heavy 10-page document.
#
#   bench/render/run.sh [BUILD_DIR]        (default: build; needs client/folio)
#
# Whole processes, wall clock, same run, same machine:
#   folio render doc.json --format pdf          vs  Scribus: open our .sla + export PDF
#   folio render doc.json --format png --dpi 150 vs Scribus: open our .sla + export PNG @150
# and the PNG encoder alone (bench_render_png: folio's encoder vs cairo's on one
# rasterized A4 page), and page 1 through the library (bench_render_png: the
# whole PNG path against rasterize + cairo_surface_write_to_png, target <=
# 0.15x; PDF+PNG of the page on one core with taskset -c 0, target <= 20 ms).
# Each folio figure is the median of 5 runs, each Scribus figure the median of
# 3. Prints ratios; the targets are >= 10x faster than Scribus end to end and
# <= 40 ms to encode an A4 page at 150 dpi.
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

# "WALL CPU": medians in seconds of N runs of a command (timeit.py)
median() { /usr/bin/python3 "$root/bench/render/timeit.py" "$@"; }

echo "document: $pages A4 pages of justified text ($(wc -c <"$tmp/doc.json") bytes of JSON); $(nproc) CPUs; load: $(cut -d' ' -f1-3 /proc/loadavg)"
read -r f_pdf c_pdf < <(median 5 "$folio" render "$tmp/doc.json" --format pdf --out "$tmp/f")
read -r f_png c_png < <(median 5 "$folio" render "$tmp/doc.json" --format png --dpi 150 --out "$tmp/f")
read -r f_png1 c_png1 < <(median 3 "$folio" render "$tmp/doc.json" --format png --dpi 150 --threads 1 --out "$tmp/f")
read -r s_pdf sc_pdf < <(median 3 "$root/bench/render/scribus_run.sh" pdf "$tmp")
read -r s_png sc_png < <(median 3 "$root/bench/render/scribus_run.sh" png "$tmp")
pdf_pages=$(pdfinfo "$tmp/s-pdf/scribus.pdf" | awk '/^Pages:/ {print $2}')
[ "$pdf_pages" = "$pages" ] || { echo "run.sh: Scribus' PDF has $pdf_pages pages, not $pages" >&2; exit 1; }

ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.1f", a / b}'; }
per_page() { awk -v a="$1" -v n="$pages" 'BEGIN {printf "%.1f", a * 1000 / n}'; }
printf '\n%-40s %8s %8s %10s\n' "end to end (whole processes, medians)" "wall s" "CPU s" "wall ms/pg"
row() { printf '%-40s %8s %8s %10s\n' "$1" "$2" "$3" "$(per_page "$2")"; }
row "folio render --format pdf" "$f_pdf" "$c_pdf"
row "Scribus: open .sla + export PDF" "$s_pdf" "$sc_pdf"
row "folio render --format png --dpi 150" "$f_png" "$c_png"
row "folio ... png --dpi 150 --threads 1" "$f_png1" "$c_png1"
row "Scribus: open .sla + export PNG @150" "$s_png" "$sc_png"
printf '\nratios Scribus / folio (target >= 10):\n'
printf '  PDF:     wall %sx  CPU %sx\n' "$(ratio "$s_pdf" "$f_pdf")" "$(ratio "$sc_pdf" "$c_pdf")"
printf '  PNG@150: wall %sx  CPU %sx\n' "$(ratio "$s_png" "$f_png")" "$(ratio "$sc_png" "$c_png")"
printf '  PNG parallel speed-up, wall (1 thread / %s): %sx\n' "$(nproc)" "$(ratio "$f_png1" "$f_png")"

if [ -x "$build/bench/render/bench_render_png" ]; then
  # page 1 of the same document: the encoder alone, the whole PNG path against
  # cairo's (target <= 0.15x), and PDF+PNG on one core (target <= 20 ms)
  echo
  "$build/bench/render/bench_render_png" "$tmp/doc.json" 150 9 encoder
  "$build/bench/render/bench_render_png" "$tmp/doc.json" 150 9 png
  taskset -c 0 "$build/bench/render/bench_render_png" "$tmp/doc.json" 150 9 pdfpng
fi
