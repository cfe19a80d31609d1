#!/usr/bin/env bash
# Builds the cgrpc request-decoding libFuzzer target with clang (fuzzer + ASan
# + UBSan) and runs it for a bounded time.
#   run_fuzz.sh SOURCE_DIR BUILD_DIR WORK_DIR SECONDS
# BUILD_DIR must hold the generated protobuf-c code (any build of folio does).
# Seeds: tests/fuzz/cgrpc/corpus (read only); new inputs go to WORK_DIR/corpus,
# crashes to WORK_DIR/crash-*. Exits non-zero on any finding.
set -euo pipefail
src=$1 build=$2 work=$3 secs=${4:-20}
cc=$(command -v clang-14 || command -v clang)
gen=$build/protos/folio_protos_gen
wkt=$build/cgrpc_wkt_gen
mkdir -p "$work/corpus"
work=$(cd "$work" && pwd)
# shellcheck disable=SC2046
"$cc" -g -O1 -std=c17 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
  -I"$src/cgrpc/include" -I"$src/cgrpc/runtime" -I"$gen" -I"$wkt" \
  "$src/tests/fuzz/cgrpc/fuzz_cgrpc_unpack.c" "$src/cgrpc/runtime/common.c" \
  "$gen/folio/v1/layout_service.pb-c.c" "$gen/grpc/health/v1/health.pb-c.c" \
  "$wkt/google/protobuf/timestamp.pb-c.c" \
  $(pkg-config --cflags --libs grpc libprotobuf-c) -lpthread -o "$work/fuzz_cgrpc"
cd "$work"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ./fuzz_cgrpc -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=4096 \
  -print_final_stats=1 -artifact_prefix="$work/" corpus "$src/tests/fuzz/cgrpc/corpus" 2>&1 | tail -15
exit "${PIPESTATUS[0]}"
