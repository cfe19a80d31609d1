#!/usr/bin/python3
"""python3-jsonschema baseline: json.loads + Draft202012Validator.validate,
repeated for about SECONDS (at least 2 runs); prints "jsonschema MB/s <median>".
    bench_jsonschema.py SCHEMA FILE [SECONDS]"""
import json
import sys
import time

import jsonschema

schema_path, path = sys.argv[1:3]
secs = float(sys.argv[3]) if len(sys.argv) > 3 else 3
with open(schema_path, encoding="utf-8") as f:
    validator = jsonschema.Draft202012Validator(json.load(f))
with open(path, "rb") as f:
    data = f.read()
rates = []
start = time.monotonic()
while time.monotonic() - start < secs or len(rates) < 2:
    t0 = time.perf_counter()
    validator.validate(json.loads(data))
    rates.append(len(data) / 1e6 / (time.perf_counter() - t0))
rates.sort()
print("jsonschema MB/s %.2f (median of %d runs)" % (rates[len(rates) // 2], len(rates)))
