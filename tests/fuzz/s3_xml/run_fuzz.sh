#!/usr/bin/env bash
# Builds the S3 reply reader's libFuzzer target with clang (fuzzer + ASan +
# UBSan) and runs it for a bounded time over the seed corpus.
#   run_fuzz.sh SOURCE_DIR WORK_DIR SECONDS
# Seeds: tests/fuzz/s3_xml/corpus (read only); new inputs go to
# WORK_DIR/corpus, crashes to WORK_DIR/crash-*. Exits non-zero on any finding.
set -euo pipefail
src=$1 work=$2 secs=${3:-15}
cc=$(command -v clang-14 || command -v clang)
mkdir -p "$work/corpus"
work=$(cd "$work" && pwd)
"$cc" -g -O1 -std=c17 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
  -I"$src/lib/s3" "$src/tests/fuzz/s3_xml/fuzz_s3_xml.c" "$src/lib/s3/xml.c" -o "$work/fuzz_s3_xml"
cd "$work"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ./fuzz_s3_xml -max_total_time="$secs" -timeout=10 -max_len=4096 \
  -dict="$src/tests/fuzz/s3_xml/xml.dict" -print_final_stats=1 -artifact_prefix="$work/" \
  corpus "$src/tests/fuzz/s3_xml/corpus" 2>&1 | tail -15
exit "${PIPESTATUS[0]}"
