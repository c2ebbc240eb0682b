"""Generates the image files of tests/multimodal/test_image_io.cpp, written
by encoders other than loom's: Pillow for the JPEGs and simple PNGs, and
PNG chunks assembled here by hand for what Pillow cannot write (16-bit RGBA,
Adam7 interlacing, 2-bit gray).

    python3 tests/data/make_image_fixtures.py

Writes next to this script, in images/:
  palette_trns.png  6 x 4 palette image with a tRNS chunk
  gray16.png        5 x 3 16-bit gray
  rgba16_adam7.png  7 x 5 16-bit RGBA, interlaced
  gray2.png         9 x 2 2-bit gray
  rgb_baseline.jpg  16 x 16 colour gradient, baseline, quality 95
  rgb_progressive.jpg  the same image, progressive
  gray.jpg          16 x 8 gray gradient, quality 95
  cmyk.jpg          8 x 8 CMYK
The pixel formulas are repeated in the C++ test.
"""
import os
import struct
import zlib

from PIL import Image

here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "images")
os.makedirs(here, exist_ok=True)


def chunk(kind, data):
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


def png(path, width, height, depth, color_type, rows_of, interlace=False):
    """rows_of(x0, dx, y0, dy) -> raw scanlines (without filter bytes) of a pass."""
    raw = b""
    if interlace:
        passes = [(0, 8, 0, 8), (4, 8, 0, 8), (0, 4, 4, 8), (2, 4, 0, 4), (0, 2, 2, 4), (1, 2, 0, 2), (0, 1, 1, 2)]
    else:
        passes = [(0, 1, 0, 1)]
    for x0, dx, y0, dy in passes:
        if x0 >= width or y0 >= height:
            continue
        for line in rows_of(x0, dx, y0, dy):
            raw += b"\x00" + line
    ihdr = struct.pack(">IIBBBBB", width, height, depth, color_type, 0, 0, 1 if interlace else 0)
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")
    with open(os.path.join(here, path), "wb") as f:
        f.write(data)


# palette_trns.png: index (x + y) % 4 of red, green, blue, white; alphas 128, 255, 255, 0.
img = Image.new("P", (6, 4))
img.putpalette([255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255])
img.putdata([(x + y) % 4 for y in range(4) for x in range(6)])
img.save(os.path.join(here, "palette_trns.png"), transparency=bytes([128, 255, 255, 0]))

# gray16.png: v = 1000 x + 20000 y + 7.
png("gray16.png", 5, 3, 16, 0,
    lambda x0, dx, y0, dy: [b"".join(struct.pack(">H", 1000 * x + 20000 * y + 7) for x in range(5))
                            for y in range(3)])


def rgba16(x, y):
    return (9000 * x + 13, 12000 * y + 5, 65535 - 4000 * (x + y), 60000 - 1000 * x)


png("rgba16_adam7.png", 7, 5, 16, 6,
    lambda x0, dx, y0, dy: [b"".join(struct.pack(">4H", *rgba16(x, y)) for x in range(x0, 7, dx))
                            for y in range(y0, 5, dy)],
    interlace=True)


def gray2_row(y):
    vals = [(x + y) % 4 for x in range(9)] + [0] * 3
    return bytes((vals[i] << 6) | (vals[i + 1] << 4) | (vals[i + 2] << 2) | vals[i + 3] for i in range(0, 12, 4))


png("gray2.png", 9, 2, 2, 0, lambda x0, dx, y0, dy: [gray2_row(y) for y in range(2)])

# The JPEGs: r = 15 x, g = 15 y, b = 128 + 4 (x - y); gray = 15 x + 2 y.
rgb = Image.new("RGB", (16, 16))
rgb.putdata([(15 * x, 15 * y, 128 + 4 * (x - y)) for y in range(16) for x in range(16)])
rgb.save(os.path.join(here, "rgb_baseline.jpg"), quality=95, subsampling=2)
rgb.save(os.path.join(here, "rgb_progressive.jpg"), quality=95, subsampling=2, progressive=True)
gray = Image.new("L", (16, 8))
gray.putdata([15 * x + 2 * y for y in range(8) for x in range(16)])
gray.save(os.path.join(here, "gray.jpg"), quality=95)
cmyk = Image.new("CMYK", (8, 8), (10, 20, 30, 40))
cmyk.save(os.path.join(here, "cmyk.jpg"), quality=90)
