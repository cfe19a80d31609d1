#!/usr/bin/env bash
# Installs what folio needs on Debian 12 when it is missing, and nothing else.
#
#   scripts/deps.sh [build|run|test]...     (default: build)
#
# Package lists live in scripts/deps.d/<purpose>.apt (one Debian package a line,
# '#' comments); npm dependencies of test tools live in folders named by
# scripts/deps.d/<purpose>.npm (one repo-relative folder with a package.json and
# package-lock.json a line). "test" implies "run" implies "build".
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)

purposes=("$@")
[ ${#purposes[@]} -gt 0 ] || purposes=(build)
want=(build)
for p in "${purposes[@]}"; do
  case "$p" in
    build) ;;
    run) want+=(run) ;;
    test) want+=(run test) ;;
    *) echo "deps.sh: unknown purpose '$p' (build|run|test)" >&2; exit 2 ;;
  esac
done

pkgs=()
for p in "${want[@]}"; do
  for f in "$here"/deps.d/"$p"*.apt; do
    [ -f "$f" ] || continue
    while read -r line; do
      line=${line%%#*}
      for w in $line; do pkgs+=("$w"); done
    done <"$f"
  done
done

sudo=""
[ "$(id -u)" = 0 ] || sudo=sudo
missing=()
for p in "${pkgs[@]}"; do
  st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [ "$st" = "install ok installed" ] || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "deps.sh: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

npm_dirs=()
for p in "${want[@]}"; do
  for f in "$here"/deps.d/"$p"*.npm; do
    [ -f "$f" ] && npm_dirs+=("$f")
  done
done
if [ ${#npm_dirs[@]} -gt 0 ] && ! command -v npm >/dev/null 2>&1; then
  # Debian's nodejs package does not carry npm; nodesource's does.
  ${sudo:-} apt-get install -y -qq --no-install-recommends npm >&2
fi

for p in "${want[@]}"; do
  for f in "$here"/deps.d/"$p"*.npm; do
    [ -f "$f" ] || continue
    while read -r dir; do
      dir=${dir%%#*}
      dir=$(echo "$dir" | xargs)
      [ -n "$dir" ] || continue
      if [ ! -d "$root/$dir/node_modules" ] || [ "$root/$dir/package-lock.json" -nt "$root/$dir/node_modules" ]; then
        echo "deps.sh: npm ci in $dir" >&2
        (cd "$root/$dir" && npm ci --no-audit --no-fund --loglevel=error >&2)
      fi
    done <"$f"
  done
done
