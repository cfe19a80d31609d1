#!/usr/bin/env bash
# Builds the layout decoder's libFuzzer target with clang (fuzzer + ASan +
# UBSan) into the build dir and runs it for a bounded time over the corpus.
#   run_fuzz.sh SOURCE_DIR WORK_DIR SECONDS
# Seeds: tests/layouts/{valid,invalid} (read only); new inputs go to
# WORK_DIR/corpus, crashes to WORK_DIR/crash-*. Exits non-zero on any finding.
set -euo pipefail
src=$1 work=$2 secs=${3:-25}
cc=$(command -v clang-14 || command -v clang)
mkdir -p "$work/corpus"
work=$(cd "$work" && pwd)
"$cc" -g -O1 -std=c17 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
  -I"$src/lib/layout/include" -I"$src/lib/base/include" -I"$src/lib/layout" \
  "$src/tests/fuzz/layout/fuzz_layout.c" "$src"/lib/layout/{json,decode,resolve,image,diag}.c \
  "$src/lib/base/arena.c" -lpng -ljpeg -lm -lpthread -o "$work/fuzz_layout"
cd "$work"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ./fuzz_layout -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
  -dict="$src/tests/fuzz/layout/layout.dict" -print_final_stats=1 -artifact_prefix="$work/" \
  corpus "$src/tests/layouts/valid" "$src/tests/layouts/invalid" 2>&1 | tail -25
exit "${PIPESTATUS[0]}"
