"""loom.multimodal.transforms: torchvision.transforms' image augmentations on loom Tensors.

    from loom.multimodal import transforms as T
    augment = T.Compose([
        T.RandomRotation(15),
        T.RandomAffine(0, translate=(0.1, 0.1), scale=(0.9, 1.1)),
        T.RandomHorizontalFlip(),
        T.ColorJitter(0.2, 0.2, 0.2),
        T.Normalize([0.5, 0.5, 0.5], [0.25, 0.25, 0.25]),
    ])
    y = augment(x)          # x: float [C, H, W] or [N, C, H, W] in [0, 1]

Each class holds a C++ transform of multimodal/transforms.h that checked its arguments when built;
calling it runs in C++ with the GIL released. A random transform draws from loom's global generator
(loom.manual_seed makes it repeat), or from the loom.Generator given as generator=. In a batch every
image draws its own parameters (torchvision draws one set for the whole batch). The functional forms
are in loom.multimodal.transforms.functional.
"""
import numbers

from ..._C._functional import _transforms as _C
from . import functional
from .functional import InterpolationMode, _fill, _mode, _pair, _size, _unsupported

__all__ = [
    "InterpolationMode",
    "Compose",
    "Lambda",
    "RandomRotation",
    "RandomAffine",
    "RandomHorizontalFlip",
    "RandomVerticalFlip",
    "RandomResizedCrop",
    "RandomCrop",
    "CenterCrop",
    "Resize",
    "ColorJitter",
    "Normalize",
    "functional",
]


def _symmetric(value, who, name):
    """torchvision's angle argument: a number d >= 0 is (-d, d); a sequence is (lo, hi)."""
    if isinstance(value, numbers.Real):
        if value < 0:
            raise ValueError(f"{who}: {name} must be >= 0 when it is a single number, got {value}")
        return (0.0 - float(value), float(value))
    return _pair(value, who, name)


class _Transform:
    """The shared call: the C++ transform on img, with this transform's generator."""

    _t = None
    generator = None

    def __call__(self, img):
        return self._t(img, self.generator)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self._repr_args())
        return f"{type(self).__name__}({args})"

    def _repr_args(self):
        return []


class Compose:
    """Applies transforms (any callables) one after another."""

    def __init__(self, transforms):
        self.transforms = list(transforms)
        for i, t in enumerate(self.transforms):
            if not callable(t):
                raise TypeError(f"Compose: transform {i} is not callable, got {type(t).__name__}")

    def __call__(self, img):
        for t in self.transforms:
            img = t(img)
        return img

    def __repr__(self):
        inner = "".join(f"\n    {t!r}," for t in self.transforms)
        return f"Compose({inner}\n)" if inner else "Compose()"


class Lambda:
    """A user function as a transform."""

    def __init__(self, lambd):
        if not callable(lambd):
            raise TypeError(f"Lambda: argument should be callable, got {type(lambd).__name__}")
        self.lambd = lambd

    def __call__(self, img):
        return self.lambd(img)

    def __repr__(self):
        return "Lambda()"


class RandomRotation(_Transform):
    """rotate() by an angle drawn uniformly from degrees: a number d for [-d, d] or (lo, hi)."""

    def __init__(self, degrees, interpolation=InterpolationMode.BILINEAR, expand=False, center=None, fill=0,
                 generator=None):
        _unsupported("RandomRotation", expand=(expand, False), center=(center, None))
        self.degrees = _symmetric(degrees, "RandomRotation", "degrees")
        self.interpolation = _mode(interpolation, "RandomRotation")
        self.fill = fill
        self.generator = generator
        self._t = _C.RandomRotation(self.degrees, _fill(fill, "RandomRotation"), self.interpolation)

    def _repr_args(self):
        return [("degrees", self.degrees), ("interpolation", self.interpolation), ("fill", self.fill)]


class RandomAffine(_Transform):
    """Rotation (degrees as RandomRotation), shift (translate=(a, b): up to a W and b H pixels, whole
    pixels), zoom (scale=(lo, hi)) and shear (a number s: x in [-s, s]; (lo, hi): x; 4 values: x and y)
    about the centre, drawn per image."""

    def __init__(self, degrees, translate=None, scale=None, shear=None, interpolation=InterpolationMode.BILINEAR,
                 fill=0, center=None, generator=None):
        who = "RandomAffine"
        _unsupported(who, center=(center, None))
        self.degrees = _symmetric(degrees, who, "degrees")
        self.translate = (0.0, 0.0) if translate is None else _pair(translate, who, "translate")
        self.scale = (1.0, 1.0) if scale is None else _pair(scale, who, "scale")
        if shear is None:
            self.shear = (0.0, 0.0, 0.0, 0.0)
        elif isinstance(shear, numbers.Real):
            self.shear = _symmetric(shear, who, "shear") + (0.0, 0.0)
        else:
            values = tuple(float(s) for s in shear)
            if len(values) not in (2, 4):
                raise ValueError(f"{who}: shear must be a number or a sequence of 2 or 4 numbers, got {shear!r}")
            self.shear = values + (0.0, 0.0) if len(values) == 2 else values
        self.interpolation = _mode(interpolation, who)
        self.fill = fill
        self.generator = generator
        self._t = _C.RandomAffine(self.degrees, self.translate, self.scale, self.shear, _fill(fill, who),
                                  self.interpolation)

    def _repr_args(self):
        return [("degrees", self.degrees), ("translate", self.translate), ("scale", self.scale),
                ("shear", self.shear), ("interpolation", self.interpolation), ("fill", self.fill)]


class RandomHorizontalFlip(_Transform):
    """Mirrors each image's width with probability p."""

    def __init__(self, p=0.5, generator=None):
        self.p = float(p)
        self.generator = generator
        self._t = _C.RandomHorizontalFlip(self.p)

    def _repr_args(self):
        return [("p", self.p)]


class RandomVerticalFlip(_Transform):
    """Mirrors each image's height with probability p."""

    def __init__(self, p=0.5, generator=None):
        self.p = float(p)
        self.generator = generator
        self._t = _C.RandomVerticalFlip(self.p)

    def _repr_args(self):
        return [("p", self.p)]


class RandomResizedCrop(_Transform):
    """A window of random area (a fraction of the image from scale) and aspect (log-uniform in ratio),
    resized to size (an int s for s x s, or (h, w))."""

    def __init__(self, size, scale=(0.08, 1.0), ratio=(3.0 / 4.0, 4.0 / 3.0),
                 interpolation=InterpolationMode.BILINEAR, antialias=True, generator=None):
        who = "RandomResizedCrop"
        _unsupported(who, antialias=(antialias, True))
        self.size = tuple(_size(size, who))
        if len(self.size) == 1:
            self.size = self.size * 2
        self.scale = _pair(scale, who, "scale")
        self.ratio = _pair(ratio, who, "ratio")
        self.interpolation = _mode(interpolation, who)
        self.generator = generator
        self._t = _C.RandomResizedCrop(list(self.size), self.scale, self.ratio, self.interpolation)

    def _repr_args(self):
        return [("size", self.size), ("scale", self.scale), ("ratio", self.ratio),
                ("interpolation", self.interpolation)]


class RandomCrop(_Transform):
    """A size window (an int s for s x s, or (h, w)) at a uniform position, after padding each side
    with padding zeros (an int)."""

    def __init__(self, size, padding=None, generator=None):
        who = "RandomCrop"
        self.size = tuple(_size(size, who))
        if len(self.size) == 1:
            self.size = self.size * 2
        if padding is not None and not (isinstance(padding, numbers.Integral) and not isinstance(padding, bool)):
            raise ValueError(f"{who}: padding must be None or an int (the same on every side), got {padding!r}")
        self.padding = padding
        self.generator = generator
        self._t = _C.RandomCrop(list(self.size), int(padding or 0))

    def _repr_args(self):
        return [("size", self.size), ("padding", self.padding)]


class CenterCrop(_Transform):
    """The central size window (an int s for s x s, or (h, w))."""

    def __init__(self, size):
        self.size = tuple(_size(size, "CenterCrop"))
        if len(self.size) == 1:
            self.size = self.size * 2
        self._t = _C.CenterCrop(list(self.size))

    def _repr_args(self):
        return [("size", self.size)]


class Resize(_Transform):
    """Resizes to size (h, w); an int s brings the shorter side to s, keeping the aspect. Bilinear
    resizes antialias when they shrink."""

    def __init__(self, size, interpolation=InterpolationMode.BILINEAR, max_size=None, antialias=True):
        _unsupported("Resize", max_size=(max_size, None), antialias=(antialias, True))
        self.size = _size(size, "Resize")
        self.interpolation = _mode(interpolation, "Resize")
        self._t = _C.Resize(self.size, self.interpolation)

    def _repr_args(self):
        return [("size", self.size if len(self.size) == 2 else self.size[0]), ("interpolation", self.interpolation)]


def _jitter(value, who, name, center, lower):
    """torchvision's ColorJitter argument: a number v for [max(lower, center - v), center + v], or (lo, hi)."""
    if isinstance(value, numbers.Real):
        if value < 0:
            raise ValueError(f"{who}: {name} must be >= 0 when it is a single number, got {value}")
        return (max(lower, center - float(value)), center + float(value))
    return _pair(value, who, name)


class ColorJitter(_Transform):
    """Random brightness, contrast, saturation and hue, in a random order per image: a number v draws
    the factor from [max(0, 1 - v), 1 + v] (hue: [-v, v], v <= 0.5), a pair (lo, hi) from that range."""

    def __init__(self, brightness=0, contrast=0, saturation=0, hue=0, generator=None):
        who = "ColorJitter"
        self.brightness = _jitter(brightness, who, "brightness", 1.0, 0.0)
        self.contrast = _jitter(contrast, who, "contrast", 1.0, 0.0)
        self.saturation = _jitter(saturation, who, "saturation", 1.0, 0.0)
        self.hue = _jitter(hue, who, "hue", 0.0, float("-inf"))
        self.generator = generator
        self._t = _C.ColorJitter(self.brightness, self.contrast, self.saturation, self.hue)

    def _repr_args(self):
        return [("brightness", self.brightness), ("contrast", self.contrast), ("saturation", self.saturation),
                ("hue", self.hue)]


class Normalize(_Transform):
    """(x - mean[c]) / std[c] per channel; inplace writes the result into the input."""

    def __init__(self, mean, std, inplace=False):
        self.mean = [float(m) for m in mean]
        self.std = [float(s) for s in std]
        self.inplace = bool(inplace)
        self._t = _C.Normalize(self.mean, self.std)

    def __call__(self, img):
        out = self._t(img, None)
        if self.inplace:
            img.copy_(out)
            return img
        return out

    def _repr_args(self):
        return [("mean", self.mean), ("std", self.std), ("inplace", self.inplace)]
