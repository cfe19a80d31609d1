#!/usr/bin/env bash
# Builds the cgrpc request-decoding libFuzzer target with clang (fuzzer + ASan
# + UBSan) and runs it for a bounded time.
#   run_fuzz.sh SOURCE_DIR BUILD_DIR WORK_DIR SECONDS
# BUILD_DIR must hold the generated protobuf-c code (any build of folio does).
# Seeds: tests/fuzz/cgrpc/corpus (read only); new inputs go to WORK_DIR/corpus,
# crashes to WORK_DIR/crash-*. Exits non-zero on any finding.
set -euo pipefail
src=$1 build=$2 work=$3 secs=${4:-20}
. "$src/tests/fuzz/libfuzzer.sh"
gen=$build/protos/folio_protos_gen
wkt=$build/cgrpc_wkt_gen
work=$(fuzz_prepare "$work")
# shellcheck disable=SC2046
fuzz_cc \
  -I"$src/cgrpc/include" -I"$src/cgrpc/runtime" -I"$gen" -I"$wkt" \
  "$src/tests/fuzz/cgrpc/fuzz_cgrpc_unpack.c" "$src/cgrpc/runtime/common.c" \
  "$src/cgrpc/runtime/wirecheck.c" \
  "$gen/folio/v1/layout_service.pb-c.c" "$gen/grpc/health/v1/health.pb-c.c" \
  "$wkt/google/protobuf/timestamp.pb-c.c" \
  $(pkg-config --cflags --libs grpc libprotobuf-c) -lpthread -o "$work/fuzz_cgrpc"
fuzz_run fuzz_cgrpc 15 -rss_limit_mb=2048 -max_len=4096 corpus "$src/tests/fuzz/cgrpc/corpus"
