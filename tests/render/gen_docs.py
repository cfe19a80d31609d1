#!/usr/bin/python3
"""Writes the layout documents behind the golden PNGs (tests/render/*.json).

Run once by hand when the set changes (the JSON is committed, this script only
documents how it was made). The pictures are made here: a PNG written with zlib
and a JPEG taken from the layout corpus (tests/layouts/valid/image-jpeg.json)."""
import base64, json, os, struct, sys, zlib

here = os.path.dirname(os.path.abspath(__file__))

def png(w, h):
    rows = b""
    for y in range(h):
        rows += b"\x00" + b"".join(bytes((x * 255 // (w - 1), y * 255 // (h - 1), 160)) for x in range(w))
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))

def jpeg():
    p = os.environ.get("FOLIO_JPEG_SOURCE", os.path.join(here, "..", "layouts", "valid", "image-jpeg.json"))
    return json.load(open(p))["assets"]["photo"]["data"]

small = {"size": {"width": 300, "height": 200}}

text = {
    "version": 1,
    "meta": {"title": "Golden: text", "author": "folio tests"},
    "page": small,
    "styles": {"head": {"weight": "bold", "size": 16, "align": "center", "color": "navy"}},
    "colors": {"navy": "#1a3a7a", "ink": {"cmyk": [0, 0, 0, 90]}},
    "pages": [
        {"items": [
            {"type": "text", "x": 10, "y": 8, "w": 280, "h": 24, "style": "head", "text": "Golden text page"},
            {"type": "text", "x": 10, "y": 36, "w": 135, "h": 110, "size": 8, "align": "justify",
             "color": "ink",
             "text": "Justified Latin text wraps at the box width and stretches its lines, except the last "
                     "line of each paragraph.\nA second paragraph follows a newline."},
            {"type": "text", "x": 155, "y": 36, "w": 135, "h": 40, "size": 9, "align": "right",
             "text": "Кириллица: съешь же ещё этих мягких булок."},
            {"type": "text", "x": 155, "y": 80, "w": 135, "h": 30, "size": 10, "align": "right",
             "font": "Noto Sans Arabic", "text": "مرحبا بالعالم"},
            {"type": "text", "x": 155, "y": 112, "w": 135, "h": 30, "size": 10,
             "text": "中文：你好，世界。日本語。"},
            {"type": "text", "x": 10, "y": 150, "w": 280, "h": 40, "size": 9, "line_height": 1.6,
             "runs": [{"text": "Runs: "}, {"text": "bold ", "weight": "bold"},
                      {"text": "italic ", "font_style": "italic"}, {"text": "red ", "color": "#cc0000"},
                      {"text": "mono ", "font": "DejaVu Sans Mono"}, {"text": "spaced ", "letter_spacing": 2},
                      {"text": "big", "size": 14}]},
        ]},
        {"items": [
            {"type": "text", "x": 10, "y": 10, "w": 130, "h": 50, "size": 12, "overflow": "shrink",
             "text": "This long sentence is shrunk until it fits inside its small box, however long it is."},
            {"type": "rect", "x": 10, "y": 10, "w": 130, "h": 50, "stroke": "#999999", "stroke_width": 0.5},
            {"type": "text", "x": 160, "y": 10, "w": 130, "h": 50, "size": 12, "overflow": "clip",
             "text": "This long sentence is clipped at the bottom of its small box, which cuts lines off."},
            {"type": "rect", "x": 160, "y": 10, "w": 130, "h": 50, "stroke": "#999999", "stroke_width": 0.5},
            {"type": "text", "x": 10, "y": 80, "w": 280, "h": 60, "size": 11, "align": "center",
             "rotation": -5, "opacity": 0.6, "text": "Centred, rotated -5 degrees, 60% opaque"},
        ]},
    ],
}

shapes = {
    "version": 1,
    "page": small,
    "colors": {"cyan": {"cmyk": [100, 0, 0, 0]}, "magenta": {"cmyk": [0, 100, 0, 0]}, "dark": "#222222"},
    "pages": [{"items": [
        {"type": "rect", "x": 10, "y": 10, "w": 80, "h": 50, "fill": "cyan"},
        {"type": "rect", "x": 100, "y": 10, "w": 80, "h": 50, "fill": "#ffcc00", "stroke": "dark",
         "stroke_width": 3, "radius": 12},
        {"type": "ellipse", "x": 190, "y": 10, "w": 100, "h": 50, "fill": "magenta", "stroke": "dark"},
        {"type": "rect", "x": 30, "y": 80, "w": 80, "h": 40, "fill": "#33aa55", "rotation": 30},
        {"type": "ellipse", "x": 130, "y": 80, "w": 70, "h": 70, "fill": "cyan", "opacity": 0.5},
        {"type": "ellipse", "x": 160, "y": 90, "w": 70, "h": 70, "fill": "magenta", "opacity": 0.5},
        {"type": "line", "x1": 10, "y1": 180, "x2": 290, "y2": 150, "stroke": "dark", "stroke_width": 2},
        {"type": "line", "x1": 240, "y1": 100, "x2": 290, "y2": 100, "stroke": "#cc0000", "stroke_width": 4,
         "rotation": 90},
    ]}],
}

images = {
    "version": 1,
    "page": small,
    "assets": {"grad": {"media_type": "image/png", "data": base64.b64encode(png(40, 20)).decode()},
               "photo": {"media_type": "image/jpeg", "data": jpeg()}},
    "pages": [{"items": [
        {"type": "rect", "x": 10, "y": 10, "w": 60, "h": 60, "stroke": "#999999", "stroke_width": 0.5},
        {"type": "image", "x": 10, "y": 10, "w": 60, "h": 60, "asset": "grad", "fit": "contain"},
        {"type": "rect", "x": 80, "y": 10, "w": 60, "h": 60, "stroke": "#999999", "stroke_width": 0.5},
        {"type": "image", "x": 80, "y": 10, "w": 60, "h": 60, "asset": "grad", "fit": "cover"},
        {"type": "rect", "x": 150, "y": 10, "w": 60, "h": 60, "stroke": "#999999", "stroke_width": 0.5},
        {"type": "image", "x": 150, "y": 10, "w": 60, "h": 60, "asset": "grad", "fit": "fill"},
        {"type": "rect", "x": 220, "y": 10, "w": 60, "h": 60, "stroke": "#999999", "stroke_width": 0.5},
        {"type": "image", "x": 220, "y": 10, "w": 60, "h": 60, "asset": "grad", "fit": "none"},
        {"type": "image", "x": 10, "y": 90, "w": 120, "h": 90, "asset": "photo", "fit": "contain"},
        {"type": "image", "x": 160, "y": 100, "w": 100, "h": 60, "asset": "grad", "fit": "fill",
         "rotation": 20, "opacity": 0.7},
    ]}],
}

for name, doc in (("text", text), ("shapes", shapes), ("images", images)):
    with open(os.path.join(here, name + ".json"), "w") as f:
        json.dump(doc, f, ensure_ascii=False, indent=1)
        f.write("\n")
