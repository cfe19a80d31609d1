#!/usr/bin/env bash
# Installs what is missing, builds folio and runs the service in the foreground
# until Ctrl-C. Configuration comes from the FOLIO_* environment (docs/operations.md).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
"$root/scripts/deps.sh" run
gen=()
command -v ninja >/dev/null 2>&1 && gen=(-G Ninja)
cmake -S . -B build "${gen[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc 2>/dev/null || echo 2)"
export FOLIO_LISTEN=${FOLIO_LISTEN:-127.0.0.1:50051}
echo "folio-server listening on $FOLIO_LISTEN (Ctrl-C stops it)" >&2
exec "$root/build/server/folio-server" "$@"
