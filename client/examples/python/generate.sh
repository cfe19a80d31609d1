#!/usr/bin/env bash
# Generates the Python gRPC client for folio.v1 from protos/ into DIR (default
# ./gen) with protoc and grpc_python_plugin (Debian: protobuf-compiler,
# protobuf-compiler-grpc; runtime: python3-grpcio, python3-protobuf).
#   generate.sh [DIR]; then PYTHONPATH=DIR /usr/bin/python3 folio_example.py ...
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
protos=$(cd "$here/../../../protos" && pwd)
out=${1:-$here/gen}
mkdir -p "$out"
protoc -I "$protos" --python_out="$out" --grpc_python_out="$out" \
  --plugin=protoc-gen-grpc_python="$(command -v grpc_python_plugin)" \
  "$protos/folio/v1/layout_service.proto"
echo "$out"
