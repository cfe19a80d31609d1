# Sourced by every tests/fuzz/*/run_fuzz.sh: how a libFuzzer target is built
# (clang, fuzzer + ASan + UBSan, independent of the main compiler) and run for a
# bounded time. The caller sets `work` (an existing, absolute directory; new
# inputs go to $work/corpus, crashes to $work/crash-*) and `secs`.

cc=$(command -v clang-14 || command -v clang)

# fuzz_prepare WORK: creates WORK/corpus and prints WORK as an absolute path.
fuzz_prepare() {
  mkdir -p "$1/corpus"
  (cd "$1" && pwd)
}

# fuzz_cc ARGS...: clang with the fuzzing and sanitizer flags every target uses.
fuzz_cc() {
  "$cc" -g -O1 -std=c17 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined \
    -fno-sanitize-recover=all "$@"
}

# fuzz_run BINARY TAIL_LINES LIBFUZZER_ARGS... (corpus dirs last): runs
# $work/BINARY for $secs seconds and shows the last TAIL_LINES lines; returns
# the fuzzer's status (non-zero on any finding).
fuzz_run() {
  local bin=$1 lines=$2
  shift 2
  (cd "$work" &&
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
      "./$bin" -max_total_time="$secs" -timeout=10 -print_final_stats=1 \
      -artifact_prefix="$work/" "$@" 2>&1 | tail -"$lines"
    exit "${PIPESTATUS[0]}")
}
