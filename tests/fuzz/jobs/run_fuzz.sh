#!/usr/bin/env bash
# Builds the lib/redis + lib/jobs parser fuzz target with clang (fuzzer + ASan
# + UBSan) and runs it for a bounded time.
#   run_fuzz.sh SOURCE_DIR WORK_DIR SECONDS
# Seeds: tests/fuzz/jobs/corpus (read only); new inputs go to WORK_DIR/corpus,
# crashes to WORK_DIR/crash-*. Exits non-zero on any finding.
set -euo pipefail
src=$1 work=$2 secs=${3:-20}
. "$src/tests/fuzz/libfuzzer.sh"
work=$(fuzz_prepare "$work")
# shellcheck disable=SC2046
fuzz_cc \
  -I"$src/lib/base/include" -I"$src/lib/pg/include" -I"$src/lib/redis/include" \
  -I"$src/lib/jobs/include" -I"$src/lib/jobs" -I"$src/lib/layout/include" \
  "$src/tests/fuzz/jobs/fuzz_jobs_parsers.c" "$src/lib/redis/redis.c" "$src/lib/jobs/events.c" \
  "$src/lib/jobs/uuid.c" "$src/lib/jobs/codes.c" "$src/lib/layout/pagerange.c" "$src/lib/pg/pg.c" "$src"/lib/base/{clock,log,loop,findings}.c \
  $(pkg-config --cflags --libs hiredis libpq libsodium) -lm -lpthread -o "$work/fuzz_jobs"
fuzz_run fuzz_jobs 15 -rss_limit_mb=2048 -max_len=2048 corpus "$src/tests/fuzz/jobs/corpus"
