#!/usr/bin/python3
"""Differential test: random mutations of the valid corpus, judged by the C
decoder and by python3-jsonschema, must get the same verdict.

    mutate.py CHECK_TOOL CORPUS_DIR SCHEMA [SEED] [COUNT]

Each mutant replaces, deletes or adds one or two members with values chosen to
sit on the schema's edges (range bounds, enum neighbours, wrong types, unknown
keys). The only allowed disagreement is the decoder rejecting what a schema
cannot judge: an undefined name (or link target), an asset that is not a
decodable image, a length checked in pt whose schema range is in document units
(a page side over max_page_side, a bleed side or slug over 72 pt, a slug too
thin for marks), an id used twice, or a list or table whose items do not follow
each other in document order.
Deterministic for a given SEED. Prints disagreements and "N passed, M failed".
"""
import copy
import glob
import json
import os
import random
import subprocess
import sys
import tempfile

import jsonschema

VALUES = [0, -1, 1, 0.5, 1e6, 1000001, -1e6, -1000001, 360, 361, -361, 1000, 1000.5, 100, 101, 10, 10.5,
          1e5, 100001, 700, 750, 700.0, 1.2e-7, "", "x", "#000000", "#00000", "#GGGGGG", "bold", "normal", "italic",
          "center", "justify", "A4", "Letter", "landscape", "mm", "cm", "contain", "none", "shrink", "image/png",
          "text", "rect", "line", "ellipse", "image", True, False, None, [], {}, [0, 0, 0, 0], [0, 0, 0, 101],
          {"width": 1, "height": 2}, {"width": 1}, "brand", "ink", "body", "title", "logo", "1bad", "a b",
          {"cmyk": [0, 0, 0, 0]}, [{"text": "r"}], [{"text": "r", "align": "left"}], "Zm9v", "Zm9",
          72, 73, 16, 15, ["crop"], ["crop", "crop"], ["trim"], {"top": 3}, {"top": 73}, {"inside": 1},
          "h1", "figure", "artifact", "list_item", "en", "de-CH", "x-y", "https://e.org", "mailto:", "#top", "#page=1",
          "#page=0", 65535, 65536, [{"text": "r", "link": "https://e.org"}]]
KEYS = ["x", "y", "w", "h", "type", "text", "runs", "style", "font", "weight", "font_style", "size", "color",
        "align", "line_height", "letter_spacing", "fill", "stroke", "stroke_width", "radius", "asset", "fit",
        "overflow", "rotation", "opacity", "name", "x1", "y1", "x2", "y2", "orientation", "items", "cmyk",
        "width", "height", "media_type", "data", "title", "author", "version", "unit", "page", "bogus",
        "bleed", "marks", "slug", "top", "left",
        "role", "id", "lang", "alt", "link", "list", "table", "row", "col", "header", "label"]
DECODER_ONLY = ("is not defined", "PNG", "JPEG", "max_page_side", "at most 72 pt", "slug must be at least",
                "duplicate id", "was interrupted", "cells must come in document order")


def nodes(v, path=()):
    yield path, v
    if isinstance(v, dict):
        for k, c in v.items():
            yield from nodes(c, path + (k,))
    elif isinstance(v, list):
        for i, c in enumerate(v):
            yield from nodes(c, path + (i,))


def mutate(rng, doc):
    d = copy.deepcopy(doc)
    for _ in range(rng.randint(1, 2)):
        path, v = rng.choice([(p, v) for p, v in nodes(d) if p])
        parent = d
        for k in path[:-1]:
            parent = parent[k]
        new = copy.deepcopy(rng.choice(VALUES))
        r = rng.random()
        if r < 0.2 and isinstance(parent, dict):
            del parent[path[-1]]
        elif r < 0.4 and isinstance(v, dict):
            v[rng.choice(KEYS)] = new
        else:
            parent[path[-1]] = new
    return d


def main():
    tool, corpus, schema_path = sys.argv[1:4]
    seed = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    count = int(sys.argv[5]) if len(sys.argv) > 5 else 1500
    with open(schema_path, encoding="utf-8") as f:
        validator = jsonschema.Draft202012Validator(json.load(f))
    docs = []
    for p in sorted(glob.glob(os.path.join(corpus, "valid", "*.json"))):
        with open(p, encoding="utf-8") as f:
            docs.append(json.load(f))
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory() as tmp:
        cases = []
        for i in range(count):
            d = mutate(rng, rng.choice(docs))
            path = os.path.join(tmp, "m%05d.json" % i)
            with open(path, "w", encoding="utf-8") as f:
                json.dump(d, f, ensure_ascii=False)
            cases.append((path, validator.is_valid(d)))
        out = subprocess.run([tool] + [p for p, _ in cases], capture_output=True, text=True, check=True).stdout
        verdict = {line.split("\t")[0]: line.split("\t")[1:] for line in out.splitlines() if line}
        passed = failed = 0
        for path, schema_ok in cases:
            dec = verdict[path]
            dec_ok = dec[0] == "OK"
            if dec_ok == schema_ok or (schema_ok and any(s in dec[1] for s in DECODER_ONLY)):
                passed += 1
                continue
            failed += 1
            if failed <= 10:
                with open(path, encoding="utf-8") as f:
                    body = f.read()
                print("DISAGREE (schema %s, decoder %s): %s\n  %s" %
                      ("accepts" if schema_ok else "rejects", " ".join(dec)[:300], body[:400]))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
