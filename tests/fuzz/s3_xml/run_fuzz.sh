#!/usr/bin/env bash
# Builds the S3 reply reader's libFuzzer target with clang (fuzzer + ASan +
# UBSan) and runs it for a bounded time over the seed corpus.
#   run_fuzz.sh SOURCE_DIR WORK_DIR SECONDS
# Seeds: tests/fuzz/s3_xml/corpus (read only); new inputs go to
# WORK_DIR/corpus, crashes to WORK_DIR/crash-*. Exits non-zero on any finding.
set -euo pipefail
src=$1 work=$2 secs=${3:-15}
. "$src/tests/fuzz/libfuzzer.sh"
work=$(fuzz_prepare "$work")
fuzz_cc \
  -I"$src/lib/s3" "$src/tests/fuzz/s3_xml/fuzz_s3_xml.c" "$src/lib/s3/xml.c" -o "$work/fuzz_s3_xml"
fuzz_run fuzz_s3_xml 15 -max_len=4096 -dict="$src/tests/fuzz/s3_xml/xml.dict" \
  corpus "$src/tests/fuzz/s3_xml/corpus"
