#!/usr/bin/env bash
# What the PDF profiles cost: a 10-page PDF rendered by `folio render` without
# a profile and with each profile (cairo's PDF to a file, then lib/pdf), in the
# same run, interleaved; prints the median times and the ratio (target <=
# 1.20, issue 14). Then peak RSS of a large document (default 1,000 pages)
# with and without PDF/A-2b: lib/pdf streams file to file, so the profile
# must not add the document's size to the peak.
#
#   bench/pdf/run.sh [RUNS] [LARGE_PAGES]      (default 9 1000)
#
# Uses build/ (FOLIO_BUILD_DIR overrides); builds the CLI if needed. The
# machine is shared: compare ratios, not absolute figures.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
runs=${1:-9}
large=${2:-1000}
build=${FOLIO_BUILD_DIR:-$root/build}
cmake --build "$build" --target folio -j 2 >/dev/null
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
/usr/bin/python3 - "$root/build/client/folio" "$root/client/examples/layouts/example.json" "$tmp" "$runs" "$large" <<'PY'
import json, os, resource, statistics, subprocess, sys, time
folio, example, tmp, runs, large = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
doc = json.load(open(example))

def pages(n):
    d = dict(doc)
    d["pages"] = [doc["pages"][i % len(doc["pages"])] for i in range(n)]
    path = os.path.join(tmp, "doc-%d.json" % n)
    json.dump(d, open(path, "w"))
    return path

def render(layout, out, profiles):
    args = [folio, "render", layout, "--out", out, "--lang", "en"]
    for p in profiles:
        args += ["--pdf-profile", p]
    t = time.perf_counter()
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t

ten = pages(10)
cases = [("none", []), ("pdfa-2b", ["pdfa-2b"]), ("pdfx-4", ["pdfx-4"]), ("pdfua-1", ["pdfua-1"]),
         ("pdfa-2b+pdfx-4+pdfua-1", ["pdfa-2b", "pdfx-4", "pdfua-1"])]
times = {name: [] for name, _ in cases}
for name, prof in cases:  # warm the font caches
    render(ten, os.path.join(tmp, "w"), prof)
for _ in range(runs):
    for name, prof in cases:
        times[name].append(render(ten, os.path.join(tmp, name), prof))
base = statistics.median(times["none"])
print("10-page PDF, median of %d runs each, interleaved" % runs)
for name, _ in cases:
    m = statistics.median(times[name])
    print("  %-24s %7.1f ms   ratio %.3f%s" % (name, m * 1000, m / base,
          "" if name == "none" else ("  (target <= 1.20)" if m / base <= 1.20 else "  ABOVE the 1.20 target")))

big = pages(large)
def peak(prof):
    # a fresh child per measurement: ru_maxrss of RUSAGE_CHILDREN is the
    # largest of the waited-for children, so measure the smaller one first
    pid = os.fork()
    if pid == 0:
        args = [folio, "render", big, "--out", os.path.join(tmp, "big"), "--lang", "en"]
        for p in prof:
            args += ["--pdf-profile", p]
        fd = os.open(os.devnull, os.O_WRONLY)
        os.dup2(fd, 1)
        os.execv(folio, args)
    _, status, ru = os.wait4(pid, 0)
    assert status == 0
    return ru.ru_maxrss / 1024.0
rss_none = peak([])
size_none = os.path.getsize(os.path.join(tmp, "big", "document.pdf"))
rss_a = peak(["pdfa-2b"])
size_a = os.path.getsize(os.path.join(tmp, "big", "document.pdf"))
print("%d-page PDF (%.1f MB): peak RSS %.1f MB without a profile, %.1f MB with pdfa-2b (%.1f MB PDF); difference %+.1f MB"
      % (large, size_none / 1e6, rss_none, rss_a, size_a / 1e6, rss_a - rss_none))
PY
