#!/usr/bin/env python3
"""The allocation-failure run (curl's torture tests, for folio's unit tests).

    tests/alloc/torture.py <build-dir> [--label allocfail] [--max-runs 200] [-j N]

For each test carrying the label (built with -DFOLIO_ALLOC_FAIL=ON, so linked
with tests/alloc/failalloc.c): one run counts the allocations folio code makes
(C); then the test is rerun with allocation N failing, for every N in 1..C.
When C exceeds --max-runs, the first half of the budget fails allocations
1, 2, ... in turn (start-up and first-use paths) and the rest is spread evenly
over the remainder; the report says which.

Each run must pass, or fail cleanly: exit status 1 with a message on stderr,
no signal, no timeout, and no AddressSanitizer / LeakSanitizer / UBSan report.
Anything else is a bug in an out-of-memory branch; the run exits 1 and prints
the N to reproduce:  FOLIO_ALLOC_FAIL_AT=N <test command>.
"""
import argparse
import concurrent.futures
import json
import os
import subprocess
import sys
import tempfile
import time

SAN_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")


def ctest_tests(build, label):
    out = subprocess.run(["ctest", "--test-dir", build, "-L", label, "--show-only=json-v1"],
                         check=True, capture_output=True, text=True).stdout
    tests = []
    for t in json.loads(out).get("tests", []):
        wd = None
        for p in t.get("properties", []):
            if p.get("name") == "WORKING_DIRECTORY":
                wd = p["value"]
        tests.append((t["name"], t["command"], wd))
    return tests


def run(cmd, wd, env_extra, timeout):
    env = dict(os.environ)
    env.update(env_extra)
    try:
        p = subprocess.run(cmd, cwd=wd, env=env, capture_output=True, text=True,
                           errors="replace", timeout=timeout)
        return p.returncode, p.stderr
    except subprocess.TimeoutExpired as e:
        err = e.stderr.decode(errors="replace") if isinstance(e.stderr, bytes) else (e.stderr or "")
        return "timeout", err


def verdict(rc, err):
    """None when the run passed or failed cleanly, else what went wrong."""
    if rc == "timeout":
        return "timed out"
    for m in SAN_MARKERS:
        if m in err:
            return "sanitizer: " + m
    if rc == 0:
        return None
    if rc < 0:
        return "killed by signal %d" % -rc
    if rc != 1:
        return "exit status %d" % rc
    if not err.strip():
        return "exit status 1 without a message"
    return None


def plan(count, max_runs):
    if count <= max_runs:
        return list(range(1, count + 1)), "every allocation"
    head = max_runs // 2
    rest = max_runs - head
    step = (count - head) / rest
    ns = list(range(1, head + 1)) + sorted({head + 1 + int(i * step) for i in range(rest)})
    return ns, "allocations 1..%d, then %d spread over %d..%d" % (head, len(ns) - head, head + 1, count)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("build")
    ap.add_argument("--label", default="allocfail")
    ap.add_argument("--max-runs", type=int, default=200)
    ap.add_argument("-j", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--timeout", type=float, default=60)
    a = ap.parse_args()

    tests = ctest_tests(a.build, a.label)
    if not tests:
        print("torture: no tests labelled %r in %s" % (a.label, a.build), file=sys.stderr)
        return 1
    # Sanitizer reports must stop the process so the verdict sees them.
    san = {"ASAN_OPTIONS": "detect_leaks=1:abort_on_error=1",
           "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1"}
    bugs = 0
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        for name, cmd, wd in tests:
            cfile = os.path.join(tmp, name + ".count")
            rc, err = run(cmd, wd, dict(san, FOLIO_ALLOC_COUNT_FILE=cfile), a.timeout)
            if rc != 0 or not os.path.exists(cfile):
                print("torture: %s: the counting run failed (rc %s; linked without "
                      "-DFOLIO_ALLOC_FAIL=ON?)\n%s" % (name, rc, err[-2000:]), file=sys.stderr)
                bugs += 1
                continue
            count = int(open(cfile).read())
            ns, how = plan(count, a.max_runs)
            start = time.monotonic()

            def one(n):
                return n, run(cmd, wd, dict(san, FOLIO_ALLOC_FAIL_AT=str(n)), a.timeout)

            passed = clean = 0
            found = []
            with concurrent.futures.ThreadPoolExecutor(a.j) as pool:
                for n, (rc, err) in pool.map(one, ns):
                    v = verdict(rc, err)
                    if v:
                        found.append((n, v, err))
                    elif rc == 0:
                        passed += 1
                    else:
                        clean += 1
            print("torture: %-26s %6d allocations, %4d runs (%s): %d passed, %d failed cleanly, "
                  "%d bugs, %.1f s" % (name, count, len(ns), how, passed, clean, len(found),
                                       time.monotonic() - start))
            for n, v, err in found[:5]:
                print("  FOLIO_ALLOC_FAIL_AT=%d %s: %s\n%s" % (n, " ".join(cmd), v,
                      "\n".join("    " + l for l in err.strip().splitlines()[-25:])))
            bugs += len(found)
    print("torture: %s in %.1f s" % ("%d bugs" % bugs if bugs else "clean", time.monotonic() - t0))
    return 1 if bugs else 0


if __name__ == "__main__":
    sys.exit(main())
