#!/usr/bin/env bash
# Builds the layout decoder's libFuzzer target with clang (fuzzer + ASan +
# UBSan) into the build dir and runs it for a bounded time over the corpus.
#   run_fuzz.sh SOURCE_DIR WORK_DIR SECONDS
# Seeds: tests/layouts/{valid,invalid} (read only); new inputs go to
# WORK_DIR/corpus, crashes to WORK_DIR/crash-*. Exits non-zero on any finding.
set -euo pipefail
src=$1 work=$2 secs=${3:-25}
. "$src/tests/fuzz/libfuzzer.sh"
work=$(fuzz_prepare "$work")
fuzz_cc \
  -I"$src/lib/layout/include" -I"$src/lib/base/include" -I"$src/lib/layout" \
  "$src/tests/fuzz/layout/fuzz_layout.c" "$src"/lib/layout/{json,decode,resolve,image,diag,limits,pagebox}.c \
  "$src/lib/base/arena.c" -lpng -ljpeg -lm -lpthread -o "$work/fuzz_layout"
fuzz_run fuzz_layout 25 -rss_limit_mb=2048 -max_len=65536 \
  -dict="$src/tests/fuzz/layout/layout.dict" \
  corpus "$src/tests/layouts/valid" "$src/tests/layouts/invalid"
