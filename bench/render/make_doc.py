#!/usr/bin/python3
"""Writes the benchmark's text-heavy document: 10 A4 pages, each a heading and
two justified columns of body text (~800 words a page) with bold and italic
runs, a rule and a coloured box. usage: make_doc.py OUT.json [PAGES]"""
import json
import sys

WORDS = ("layout render service print ready document page column paragraph justified text "
         "typography kerning baseline glyph font weight italic colour margin gutter spread "
         "proof export vector raster pixel resolution stream upload artifact worker queue").split()


def body(seed, n):
    out, x = [], seed
    for i in range(n):
        x = (x * 1103515245 + 12345) & 0x7fffffff
        w = WORDS[x % len(WORDS)]
        out.append(w.capitalize() + "." if i % 17 == 16 else w)
    return " ".join(out)


def page(i):
    items = [
        {"type": "rect", "x": 40, "y": 40, "w": 515.28, "h": 44, "fill": "accent"},
        {"type": "text", "x": 52, "y": 48, "w": 490, "h": 30, "size": 20, "weight": "bold", "color": "#ffffff",
         "text": "Chapter %d: rendering benchmark" % (i + 1)},
        {"type": "line", "x1": 40, "y1": 96, "x2": 555.28, "y2": 96, "stroke": "accent", "stroke_width": 1},
    ]
    for col in range(2):
        runs = []
        for para in range(4):
            runs.append({"text": body(i * 31 + col * 7 + para, 18), "weight": "bold"})
            runs.append({"text": " " + body(i * 131 + col * 17 + para, 70) + " "})
            runs.append({"text": body(i * 71 + col + para, 10), "font_style": "italic"})
            runs.append({"text": ".\n"})
        items.append({"type": "text", "x": 40 + col * 267.64, "y": 108, "w": 247.64, "h": 690, "style": "body",
                      "runs": runs})
    return {"items": items}


pages = int(sys.argv[2]) if len(sys.argv) > 2 else 10
doc = {
    "version": 1,
    "meta": {"title": "folio render benchmark", "author": "bench/render"},
    "page": {"size": "A4"},
    "colors": {"accent": {"cmyk": [90, 50, 0, 10]}},
    "styles": {"body": {"font": "DejaVu Serif", "size": 9.5, "line_height": 1.3, "align": "justify"}},
    "pages": [page(i) for i in range(pages)],
}
with open(sys.argv[1], "w") as f:
    json.dump(doc, f, indent=1)
