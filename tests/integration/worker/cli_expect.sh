#!/usr/bin/env bash
# cli_expect.sh CODE REGEX -- CMD [ARG...]: passes only when CMD exits with
# CODE and its stdout+stderr matches the extended REGEX. (ctest's
# PASS_REGULAR_EXPRESSION alone ignores the exit code: a --help that printed
# its text and then crashed, or a bad flag that exited 0, would pass.)
set -uo pipefail
want=$1 re=$2
[ "${3:-}" = -- ] || { echo "usage: cli_expect.sh CODE REGEX -- CMD [ARG...]" >&2; exit 2; }
shift 3
out=$("$@" 2>&1)
rc=$?
printf '%s\n' "$out"
fail=0
[ "$rc" = "$want" ] || { echo "FAIL: exit $rc, want $want" >&2; fail=1; }
grep -qE -- "$re" <<<"$out" || { echo "FAIL: output does not match: $re" >&2; fail=1; }
exit "$fail"
