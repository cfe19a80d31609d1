#!/usr/bin/env bash
# bench/grpc: folio's gRPC runtime against a C++ (async CQ) and a Python grpcio
# server, unary Health/Check with h2load and a 1 GiB server stream, all in one
# run; prints a table and the ratios. Builds what it needs first (release build
# in build/, or $FOLIO_BUILD_DIR).
#
#   bench/grpc/run.sh [bench.py options]     e.g. --seconds 10 --rounds 5
#   /usr/bin/python3 bench/grpc/bench.py --help
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${FOLIO_BUILD_DIR:-$root/build}
gen=()
command -v ninja >/dev/null 2>&1 && [ ! -f "$build/CMakeCache.txt" ] && gen=(-G Ninja)
command -v h2load >/dev/null || { echo "run.sh: h2load missing: scripts/deps.sh test (nghttp2-client)" >&2; exit 1; }

cmake -S "$root" -B "$build" "${gen[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFOLIO_BUILD_BENCH=ON >/dev/null
cmake --build "$build" -j 2 --target folio-server bench_grpc_cpp_server bench_grpc_c_stream_server bench_grpc_py_stubs >&2

args=(--folio-server "$build/server/folio-server" --cpp-server "$build/bench/grpc/bench_grpc_cpp_server"
      --c-stream-server "$build/bench/grpc/bench_grpc_c_stream_server" --py-stubs "$build/bench/grpc/gen/py")
exec /usr/bin/python3 "$root/bench/grpc/bench.py" "${args[@]}" "$@"
