# Sourced by the shell integration tests: a work dir $work (removed on exit),
# $pids (every process appended there gets SIGTERM and is waited for on exit)
# and the checks: ok/bad DESC, expect CODE DESC -- CMD... (stdout in $out,
# stderr in $err), has TEXT PATTERN DESC, sha FILE; $checks/$fails count them;
# and start_listening (listening.sh) for a server on a port it binds itself.
. "$(dirname "${BASH_SOURCE[0]}")/listening.sh"
work=$(mktemp -d /tmp/folio-test.XXXXXX)
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fails=0 checks=0
ok() { checks=$((checks + 1)); echo "ok   $*"; }
bad() { checks=$((checks + 1)); fails=$((fails + 1)); echo "FAIL $*"; }
# expect CODE DESC -- CMD...: runs CMD, stdout in $out, stderr in $err
expect() {
  local want=$1 desc=$2; shift 3
  "$@" >"$work/out" 2>"$work/err"; rc=$?
  out=$(cat "$work/out"); err=$(cat "$work/err")
  if [ "$rc" = "$want" ]; then ok "$desc (exit $rc)"; else bad "$desc: exit $rc, want $want; stderr: $err"; fi
}
has() { # has TEXT PATTERN DESC
  if grep -q -- "$2" <<<"$1"; then ok "$3"; else bad "$3: \"$2\" not in: $1"; fi
}
sha() { sha256sum "$1" | cut -d' ' -f1; }
