"""loom.multimodal.transforms.functional: torchvision.transforms.functional on loom Tensors.

Every function takes a float image [C, H, W] or a batch [N, C, H, W] (values in [0, 1] for the colour
adjustments) and returns a new tensor on the same device; the work runs in C++ (multimodal/transforms.h)
with the GIL released. Differences from torchvision: rotate and affine interpolate bilinearly unless told
otherwise, turn about the image centre only (no center=, no expand=), and bilinear resizes always
antialias when they shrink.
"""
import numbers
from enum import Enum

from ..._C._functional import _transforms as _C

__all__ = [
    "InterpolationMode",
    "rotate",
    "affine",
    "hflip",
    "vflip",
    "resize",
    "crop",
    "center_crop",
    "resized_crop",
    "normalize",
    "adjust_brightness",
    "adjust_contrast",
    "adjust_saturation",
    "adjust_hue",
]


class InterpolationMode(str, Enum):
    """torchvision's names for the sampling rules loom implements."""

    NEAREST = "nearest"
    BILINEAR = "bilinear"


def _mode(interpolation, who):
    """The C++ name of an InterpolationMode, a str or torchvision's enum (anything with a str .value)."""
    value = getattr(interpolation, "value", interpolation)
    if not isinstance(value, str):
        raise TypeError(f"{who}: interpolation must be an InterpolationMode or a str, "
                        f"got {type(interpolation).__name__}")
    return value.lower()


def _fill(fill, who):
    """None, a number or one number per channel, as a list of floats."""
    if fill is None:
        return [0.0]
    if isinstance(fill, numbers.Real):
        return [float(fill)]
    try:
        values = [float(v) for v in fill]
    except TypeError:
        raise TypeError(f"{who}: fill must be a number or a sequence of numbers, got {type(fill).__name__}") from None
    if not values:
        raise ValueError(f"{who}: fill must not be empty")
    return values


def _pair(value, who, name):
    """A sequence of two numbers as a tuple of floats."""
    try:
        items = [float(v) for v in value]
    except TypeError:
        raise TypeError(f"{who}: {name} must be a sequence of two numbers, got {type(value).__name__}") from None
    if len(items) != 2:
        raise ValueError(f"{who}: {name} must hold two numbers, got {len(items)}")
    return tuple(items)


def _size(size, who, name="size"):
    """An int or a sequence of one or two ints, as a list (one int means what the caller says)."""
    if isinstance(size, numbers.Integral) and not isinstance(size, bool):
        return [int(size)]
    try:
        items = list(size)
    except TypeError:
        raise TypeError(f"{who}: {name} must be an int or a sequence (h, w), got {type(size).__name__}") from None
    if len(items) not in (1, 2) or not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in items):
        raise ValueError(f"{who}: {name} must be an int or a sequence of one or two ints, got {size!r}")
    return [int(v) for v in items]


def _unsupported(who, **kwargs):
    for name, (value, default) in kwargs.items():
        if value != default:
            raise ValueError(f"{who}: {name}={value!r} is not supported by loom (only {name}={default!r})")


def rotate(img, angle, interpolation=InterpolationMode.BILINEAR, expand=False, center=None, fill=None):
    """Rotates by angle degrees counter-clockwise about the centre, keeping the size; fill (0 by
    default, one value or one per channel) where the source is outside the image."""
    _unsupported("rotate", expand=(expand, False), center=(center, None))
    return _C.rotate(img, float(angle), _fill(fill, "rotate"), _mode(interpolation, "rotate"))


def affine(img, angle, translate, scale, shear, interpolation=InterpolationMode.BILINEAR, fill=None, center=None):
    """Rotation by angle, zoom by scale, shear (degrees: a number for x, or (x, y)) about the centre,
    then a shift by translate (x, y) pixels; whole-pixel shifts are exact."""
    _unsupported("affine", center=(center, None))
    if isinstance(shear, numbers.Real):
        shear = (float(shear), 0.0)
    else:
        shear = [float(s) for s in shear]
        if len(shear) == 1:
            shear = shear + [0.0]
        shear = _pair(shear, "affine", "shear")
    return _C.affine(img, float(angle), _pair(translate, "affine", "translate"), float(scale), shear,
                     _fill(fill, "affine"), _mode(interpolation, "affine"))


def hflip(img):
    """Mirrors the width."""
    return _C.hflip(img)


def vflip(img):
    """Mirrors the height."""
    return _C.vflip(img)


def resize(img, size, interpolation=InterpolationMode.BILINEAR, max_size=None, antialias=True):
    """size (h, w) exactly; an int (or [s]) brings the shorter side to s, keeping the aspect."""
    _unsupported("resize", max_size=(max_size, None), antialias=(antialias, True))
    return _C.resize(img, _size(size, "resize"), _mode(interpolation, "resize"))


def crop(img, top, left, height, width):
    """The height x width window at (top, left); zeros where it leaves the image."""
    return _C.crop(img, int(top), int(left), int(height), int(width))


def center_crop(img, output_size):
    """The central window of output_size (an int s for s x s, or (h, w)); raises when larger than the image."""
    return _C.center_crop(img, _size(output_size, "center_crop", "output_size"))


def resized_crop(img, top, left, height, width, size, interpolation=InterpolationMode.BILINEAR, antialias=True):
    """crop() then resize() to size (an int s for s x s, or (h, w))."""
    _unsupported("resized_crop", antialias=(antialias, True))
    size = _size(size, "resized_crop")
    return _C.resize(crop(img, top, left, height, width), size * 2 if len(size) == 1 else size,
                     _mode(interpolation, "resized_crop"))


def normalize(tensor, mean, std, inplace=False):
    """(x - mean[c]) / std[c] per channel; inplace writes the result into tensor."""
    out = _C.normalize(tensor, [float(m) for m in mean], [float(s) for s in std])
    if inplace:
        tensor.copy_(out)
        return tensor
    return out


def adjust_brightness(img, brightness_factor):
    """img * factor, clamped to [0, 1]."""
    return _C.adjust_brightness(img, float(brightness_factor))


def adjust_contrast(img, contrast_factor):
    """Blends with the mean grey level of each image, clamped to [0, 1] (1 or 3 channels)."""
    return _C.adjust_contrast(img, float(contrast_factor))


def adjust_saturation(img, saturation_factor):
    """Blends with each pixel's grey 0.2989 R + 0.587 G + 0.114 B, clamped to [0, 1] (1 channel: unchanged)."""
    return _C.adjust_saturation(img, float(saturation_factor))


def adjust_hue(img, hue_factor):
    """Turns the HSV hue by hue_factor in [-0.5, 0.5] (1 channel: unchanged)."""
    return _C.adjust_hue(img, float(hue_factor))
