#!/usr/bin/env bash
# s3-down.sh DIR — stop the S3 started by s3-up.sh DIR and delete DIR.
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 DIR" >&2; exit 2; }
exec "$(cd "$(dirname "$0")" && pwd)/services/rgw-down.sh" "$1" --purge
