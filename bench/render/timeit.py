#!/usr/bin/python3
"""timeit.py N CMD...: runs CMD N times; prints "WALL CPU" in seconds, the
medians of the wall-clock time and of the CPU time (user + system of the
process and its children). CPU time is much less sensitive than wall time to
other load on the machine; a failing run is an error (exit 1)."""
import os
import resource
import statistics
import subprocess
import sys
import time

n, cmd = int(sys.argv[1]), sys.argv[2:]
walls, cpus = [], []
for _ in range(n):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    walls.append(time.monotonic() - t0)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    if r.returncode != 0:
        sys.stderr.write("timeit.py: exit %d: %s\n" % (r.returncode, " ".join(cmd)))
        sys.exit(1)
print("%.3f %.3f" % (statistics.median(walls), statistics.median(cpus)))
