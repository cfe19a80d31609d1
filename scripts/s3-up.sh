#!/usr/bin/env bash
# s3-up.sh [DIR] — start a throwaway S3 (Ceph RGW) on a free loopback port for
# `folio` runs and print FOLIO_S3_* exports (bucket folio-local), e.g.
#   eval "$(scripts/s3-up.sh /tmp/folio-s3)"; ...; scripts/s3-down.sh /tmp/folio-s3
# The bucket is created by folio at start-up (create-if-missing).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dir=${1:-$(mktemp -d /tmp/folio-s3.XXXXXX)}
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$here/services/rgw-up.sh" "$dir" "$port"
echo "export FOLIO_S3_BUCKET=${FOLIO_S3_BUCKET:-folio-local}"
echo "export FOLIO_S3_ADDRESSING=path"
echo "# stop with: $here/s3-down.sh $dir"
