#!/usr/bin/python3
"""Schema-vs-decoder agreement over the layout corpus.

    agree.py VALIDATOR CHECK_TOOL CORPUS_DIR SCHEMA

VALIDATOR is "jsonschema" (Debian's python3-jsonschema, in this process) or
"ajv" (node validate_ajv.mjs beside this file; needs `npm ci` here). CHECK_TOOL
is folio_layout_check (the C decoder). For every file of CORPUS_DIR/valid and
CORPUS_DIR/invalid the two must agree: valid files are accepted by both;
invalid files are rejected by the decoder, and by the schema validator unless
expectations.tsv marks them "accept" (what JSON Schema cannot express).
Prints one line per disagreement and a closing "N passed, M failed".
"""
import glob
import json
import os
import subprocess
import sys


def jsonschema_verdicts(schema_path, files):
    import jsonschema

    with open(schema_path, encoding="utf-8") as f:
        schema = json.load(f)
    jsonschema.Draft202012Validator.check_schema(schema)
    v = jsonschema.Draft202012Validator(schema)

    def no_constant(name):
        raise ValueError("not JSON: " + name)

    out = {}
    for path in files:
        with open(path, "rb") as f:
            raw = f.read()
        try:
            doc = json.loads(raw.decode("utf-8", errors="strict"), parse_constant=no_constant)
        except (ValueError, UnicodeDecodeError):
            out[path] = False
            continue
        out[path] = v.is_valid(doc)
    return out


def ajv_verdicts(schema_path, files):
    here = os.path.dirname(os.path.abspath(__file__))
    r = subprocess.run(["node", os.path.join(here, "validate_ajv.mjs"), schema_path] + files,
                       capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("validate_ajv.mjs failed:\n" + r.stderr[-2000:])
    return {line.split("\t")[0]: line.split("\t")[1] == "OK" for line in r.stdout.splitlines() if line}


def main():
    validator, tool, corpus, schema = sys.argv[1:5]
    valid = sorted(glob.glob(os.path.join(corpus, "valid", "*.json")))
    invalid = sorted(glob.glob(os.path.join(corpus, "invalid", "*.json")))
    expect = {}
    with open(os.path.join(corpus, "expectations.tsv"), encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            name, verdict = line.rstrip("\n").split("\t")[:2]
            expect[name] = verdict
    files = valid + invalid
    r = subprocess.run([tool] + files, capture_output=True, text=True, check=True)
    decoder = {line.split("\t")[0]: line.split("\t")[1] == "OK" for line in r.stdout.splitlines() if line}
    schema_ok = (jsonschema_verdicts if validator == "jsonschema" else ajv_verdicts)(schema, files)
    passed = failed = 0
    for path in files:
        name = os.path.basename(path)
        if path in valid:
            want_decoder, want_schema = True, True
        else:
            want_decoder, want_schema = False, expect.get(name) == "accept"
        problems = []
        if decoder.get(path) != want_decoder:
            problems.append("decoder %s" % ("accepts" if decoder.get(path) else "rejects"))
        if schema_ok.get(path) != want_schema:
            problems.append("%s %s" % (validator, "accepts" if schema_ok.get(path) else "rejects"))
        if problems:
            failed += 1
            print("DISAGREE %s: %s" % (os.path.relpath(path, corpus), ", ".join(problems)))
        else:
            passed += 1
    print("%s: %d documents agree (%d decoder-only rejections)" %
          (validator, passed, sum(1 for v in expect.values() if v == "accept")))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
