#!/usr/bin/env bash
# What the PDF profiles cost, three ways, in the same run:
#  1. in process, as the worker pays it (bench_pdf: fonts warm, no start-up):
#     folio_render_pdf into a file vs folio_pdf_finish of it with each profile
#     set; the ratio (render + finish) / render, target <= 1.20 (issue 14);
#  2. whole `folio render` processes, CPU time, without and with each profile;
#  3. peak RSS of a large document (default 1,000 pages) with and without
#     PDF/A-2b: lib/pdf streams file to file, so the profile must not add the
#     document's size to the peak.
# Documents: bench/render's 10-page text document (1 only) and
# client/examples/layouts/example.json's two pages repeated (text in six fonts,
# pictures, transparency).
#
#   bench/pdf/run.sh [RUNS] [LARGE_PAGES]      (default 9 1000)
#
# Uses build-bench/ (FOLIO_BUILD_DIR overrides; configured here with
# -DFOLIO_BUILD_BENCH=ON if missing) and builds bench_pdf and the CLI there.
# The machine is shared: compare ratios, not absolute figures.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
runs=${1:-9}
large=${2:-1000}
build=${FOLIO_BUILD_DIR:-$root/build-bench}
if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFOLIO_BUILD_BENCH=ON >/dev/null
fi
cmake --build "$build" --target folio bench_pdf -j 2 >/dev/null
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
/usr/bin/python3 - "$build/client/folio" "$root/client/examples/layouts/example.json" "$tmp" "$runs" "$large" "$build/bench/pdf/bench_pdf" <<'PY'
import json, os, resource, statistics, subprocess, sys, time
folio, example, tmp, runs, large, bench = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
doc = json.load(open(example))

def pages(n):
    d = dict(doc)
    d["pages"] = [doc["pages"][i % len(doc["pages"])] for i in range(n)]
    path = os.path.join(tmp, "doc-%d.json" % n)
    json.dump(d, open(path, "w"))
    return path

def render(layout, out, profiles):
    """CPU time (user + system) of one `folio render`: on a shared machine
    the wall time mostly measures the neighbours."""
    args = [folio, "render", layout, "--out", out, "--lang", "en"]
    for p in profiles:
        args += ["--pdf-profile", p]
    pid = os.fork()
    if pid == 0:
        fd = os.open(os.devnull, os.O_WRONLY)
        os.dup2(fd, 1)
        os.execv(folio, args)
    _, status, ru = os.wait4(pid, 0)
    assert status == 0, args
    return ru.ru_utime + ru.ru_stime

ten = pages(10)
# in process: bench/render's 10-page text document (the repo's reference
# render) and the example's two pages repeated (light: pictures drawn from
# the cache, so the render is short and the finish weighs more)
text = os.path.join(tmp, "text-10.json")
subprocess.run(["/usr/bin/python3", os.path.join(os.path.dirname(example), "../../../bench/render/make_doc.py"), text, "10"], check=True)
for name, doc_path in (("bench/render's text document", text), ("the example, repeated", ten)):
    print("--", name)
    sys.stdout.flush()
    subprocess.run([bench, doc_path, str(max(runs, 5)), tmp], check=True)
cases = [("none", []), ("pdfa-2b", ["pdfa-2b"]), ("pdfx-4", ["pdfx-4"]), ("pdfua-1", ["pdfua-1"]),
         ("pdfa-2b+pdfx-4+pdfua-1", ["pdfa-2b", "pdfx-4", "pdfua-1"])]
times = {name: [] for name, _ in cases}
for name, prof in cases:  # warm the font caches
    render(ten, os.path.join(tmp, "w"), prof)
for _ in range(runs):
    for name, prof in cases:
        times[name].append(render(ten, os.path.join(tmp, name), prof))
base = statistics.median(times["none"])
print("10-page PDF: CPU time (user+system) of folio render, median of %d runs each, interleaved" % runs)
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
