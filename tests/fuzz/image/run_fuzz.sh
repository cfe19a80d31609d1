#!/usr/bin/env bash
# Builds the image decoder's libFuzzer target with clang (fuzzer + ASan +
# UBSan) into the build dir and runs it for a bounded time.
#   run_fuzz.sh SOURCE_DIR WORK_DIR SECONDS
# Seeds: the PNG and JPEG files of tests/render and tests/layouts (read only,
# prefixed with the type byte by the fuzzer's mutations); new inputs go to
# WORK_DIR/corpus, crashes to WORK_DIR/crash-*. Exits non-zero on any finding.
set -euo pipefail
src=$1 work=$2 secs=${3:-20}
. "$src/tests/fuzz/libfuzzer.sh"
work=$(fuzz_prepare "$work")
fuzz_cc \
  -I"$src/lib/layout/include" -I"$src/lib/base/include" -I"$src/lib/layout" \
  "$src/tests/fuzz/image/fuzz_image.c" "$src"/lib/layout/{json,decode,resolve,image,diag,limits,pagebox}.c \
  "$src/lib/base/arena.c" -lpng -ljpeg -lm -lpthread -o "$work/fuzz_image"
# seeds: each image file twice, as a PNG (type byte 0) and a JPEG (type byte 1)
mkdir -p "$work/seeds"
for f in "$src"/tests/render/*.png; do
  [ -f "$f" ] || continue
  b=$(basename "$f")
  { printf '\000'; cat "$f"; } > "$work/seeds/png-$b"
  { printf '\002'; cat "$f"; } > "$work/seeds/png8-$b"
done
# and the JPEG/PNG assets of the valid layout corpus
python3 - "$src/tests/layouts/valid" "$work/seeds" <<'PY'
import base64, glob, json, os, sys
for f in glob.glob(os.path.join(sys.argv[1], "*.json")):
    try:
        doc = json.load(open(f, encoding="utf-8"))
    except ValueError:
        continue
    for name, a in (doc.get("assets") or {}).items():
        t = b"\x01" if a.get("media_type") == "image/jpeg" else b"\x00"
        with open(os.path.join(sys.argv[2], os.path.basename(f) + "-" + name), "wb") as o:
            o.write(t + base64.b64decode(a["data"]))
PY
fuzz_run fuzz_image 25 -rss_limit_mb=2048 -max_len=65536 corpus "$work/seeds"
