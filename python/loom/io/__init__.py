"""loom.io: image files in and out, as torchvision.io.

    img = loom.io.read_image("cat.jpg", loom.io.ImageReadMode.RGB)   # int32 [3, H, W] in 0..255
    x = img.float() / 255                                             # what the models take
    loom.io.write_png(x, "out.png")                                   # float [0, 1] or integer 0..255
    data = loom.io.encode_png(img)                                    # bytes
    same = loom.io.decode_image(data)

PNG (any bit depth: 16-bit samples are scaled to 8, palettes expanded, a tRNS
chunk read as alpha) and JPEG (baseline and progressive, gray or colour; CMYK
raises NotImplementedError) are read through libpng and libjpeg. loom has no
uint8 dtype, so pixels are int32 with values 0..255 where torchvision returns
uint8. Missing, truncated and corrupt files raise RuntimeError naming the file.
"""
import enum

from .._C._functional import _io as _C_io

__all__ = [
    "ImageReadMode",
    "read_image",
    "decode_image",
    "write_png",
    "encode_png",
    "write_jpeg",
    "encode_jpeg",
]


class ImageReadMode(enum.Enum):
    """The channels read_image returns. UNCHANGED keeps the file's (1 gray,
    2 gray + alpha, 3 RGB, 4 RGBA). GRAY from colour is the rounded ITU-R 601
    luma (as Pillow's convert("L")); RGB from gray repeats it; dropping alpha
    ignores it; an added alpha is 255."""

    UNCHANGED = 0
    GRAY = 1
    GRAY_ALPHA = 2
    RGB = 3
    RGB_ALPHA = 4


def read_image(path, mode=ImageReadMode.UNCHANGED):
    """The image in a PNG or JPEG file as an int32 tensor [C, H, W] in 0..255.

    path: str, bytes or os.PathLike. mode: an ImageReadMode or its name as a
    str ("rgb", "gray", ...; "rgba" also means RGB_ALPHA). The format is told
    by the file's first bytes, not its name."""
    return _C_io.read_image(path, mode)


def decode_image(data, mode=ImageReadMode.UNCHANGED):
    """As read_image, from the bytes of a PNG or JPEG file (bytes, bytearray
    or memoryview)."""
    return _C_io.decode_image(data, mode)


def write_png(input, filename, compression_level=6):
    """Writes input [C, H, W] (C = 1 gray, 2 gray + alpha, 3 RGB, 4 RGBA) as a
    PNG file: an integer tensor with values in 0..255, or a float one in
    [0, 1] (clamped, then rounded to 0..255). compression_level: zlib's 0..9.
    The file is written beside its name and renamed, never left half-written."""
    _C_io.write_png(input, filename, compression_level)


def encode_png(input, compression_level=6):
    """The bytes of the PNG file that write_png would write."""
    return _C_io.encode_png(input, compression_level)


def write_jpeg(input, filename, quality=75):
    """As write_png for a JPEG file: C = 1 or 3, quality 1..100."""
    _C_io.write_jpeg(input, filename, quality)


def encode_jpeg(input, quality=75):
    """The bytes of the JPEG file that write_jpeg would write."""
    return _C_io.encode_jpeg(input, quality)
