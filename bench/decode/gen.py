#!/usr/bin/python3
"""Writes a deterministic layout document of about SIZE bytes (default 5 MB)
for the decode benchmark: a catalogue of many pages, mostly text items (plain
and with runs, in Latin, Cyrillic, Arabic and CJK), shapes, lines and images
referring to two small embedded assets. Valid for the schema and the decoder.

    gen.py OUT.json [SIZE_BYTES]
"""
import base64
import json
import random
import struct
import sys
import zlib


def png(w, h):
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
    raw = b"".join(b"\0" + bytes((x * 7 + y * 3) & 255 for x in range(w * 3)) for y in range(h))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


WORDS = {
    "latin": "spring catalogue new season collection garden table chair lamp linen cotton oak price offer".split(),
    "cyrillic": "весенний каталог новая коллекция сад стол стул лампа лён хлопок дуб цена".split(),
    "arabic": "ربيع كتالوج مجموعة جديدة حديقة طاولة كرسي مصباح كتان قطن سعر عرض".split(),
    "cjk": "春 カタログ 新作 コレクション 庭 テーブル 椅子 ランプ 麻 綿 価格 特価".split(),
}


def sentence(rng, lang, n):
    return " ".join(rng.choice(WORDS[lang]) for _ in range(n)).capitalize() + "."


def make(target):
    rng = random.Random(42)
    doc = {
        "version": 1, "unit": "mm",
        "meta": {"title": "Benchmark catalogue", "author": "folio bench"},
        "page": {"size": "A4"},
        "colors": {"brand": "#1a73e8", "ink": {"cmyk": [0, 0, 0, 100]}, "muted": "#6b6b6b", "paper": "#fafafa"},
        "styles": {
            "title": {"font": "DejaVu Sans", "weight": "bold", "size": 24, "color": "brand", "align": "center"},
            "body": {"font": "DejaVu Serif", "size": 10.5, "line_height": 1.35, "align": "justify"},
            "caption": {"font": "DejaVu Sans", "size": 8, "color": "muted", "font_style": "italic"},
        },
        "assets": {"thumb": {"media_type": "image/png", "data": base64.b64encode(png(32, 24)).decode()},
                   "logo": {"media_type": "image/png", "data": base64.b64encode(png(16, 16)).decode()}},
        "pages": [],
    }
    size = len(json.dumps(doc, ensure_ascii=False).encode())
    langs = list(WORDS)
    while size < target:
        items = [{"type": "text", "x": 20, "y": 15, "w": 170, "h": 12, "style": "title",
                  "text": "Page %d" % (len(doc["pages"]) + 1)},
                 {"type": "image", "x": 180, "y": 10, "w": 12, "h": 12, "asset": "logo"}]
        for row in range(12):
            y = round(32 + row * 21.5, 2)
            lang = langs[row % 4]
            items.append({"type": "rect", "x": 18, "y": y - 1, "w": 174, "h": 20, "fill": "paper",
                          "stroke": "muted", "stroke_width": 0.2, "radius": 1.5})
            items.append({"type": "image", "x": 20, "y": y, "w": 24, "h": 18, "asset": "thumb", "fit": "cover"})
            items.append({"type": "text", "x": 48, "y": y, "w": 100, "h": 14, "style": "body",
                          "align": "right" if lang == "arabic" else "justify",
                          "text": sentence(rng, lang, rng.randint(12, 30))})
            items.append({"type": "text", "x": 150, "y": y, "w": 40, "h": 14, "overflow": "shrink",
                          "runs": [{"text": sentence(rng, lang, 3) + " "},
                                   {"text": "%d.%02d" % (rng.randint(1, 999), rng.randint(0, 99)), "weight": "bold",
                                    "color": "brand"},
                                   {"text": " EUR", "size": 7, "font_style": "italic"}]})
            items.append({"type": "text", "x": 48, "y": round(y + 15, 2), "w": 100, "h": 4, "style": "caption",
                          "text": sentence(rng, "latin", 6)})
            items.append({"type": "line", "x1": 20, "y1": round(y + 20.2, 2), "x2": 190, "y2": round(y + 20.2, 2),
                          "stroke": "ink", "stroke_width": 0.1})
        items.append({"type": "ellipse", "x": 185, "y": 280, "w": 8, "h": 8, "fill": "brand", "opacity": 0.8,
                      "rotation": 15})
        page = {"items": items}
        if len(doc["pages"]) % 10 == 9:
            page["orientation"] = "landscape"
        doc["pages"].append(page)
        size += len(json.dumps(page, ensure_ascii=False).encode()) + 2
    return json.dumps(doc, ensure_ascii=False).encode()


if __name__ == "__main__":
    target = int(sys.argv[2]) if len(sys.argv) > 2 else 5 * 1000 * 1000
    data = make(target)
    with open(sys.argv[1], "wb") as f:
        f.write(data)
