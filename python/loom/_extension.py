"""Which build's extension module (loom._C) `import loom` loads.

- An installed package (``pip install .``, or a copy of the package with its
  ``_C`` beside it): the ``_C`` next to this file.
- The source tree (``python/loom`` of a loom checkout): the ``_C`` of one named
  build folder, ``<build>/pkg/loom/_C*.so``, where ``<build>`` is
  ``$LOOM_BUILD_DIR`` (absolute, or relative to the repository root) and
  ``build/`` (what ``scripts/build.sh`` builds) when it is unset. Every CMake
  build writes its ``_C`` into its own ``<build>/pkg/loom/`` and none into
  ``python/loom/``, so which build ran last never decides what is imported.
"""
import glob
import importlib
import importlib.machinery
import importlib.util
import os
import sys

_PKG = os.path.dirname(os.path.abspath(__file__))
_ROOT = os.path.dirname(os.path.dirname(_PKG))


def source_root():
    """The repository root when this package is python/loom of a source checkout, else None."""
    if (os.path.basename(os.path.dirname(_PKG)) == "python" and os.path.isfile(os.path.join(_ROOT, "CMakeLists.txt"))
            and os.path.isfile(os.path.join(_ROOT, "python", "CMakeLists.txt"))):
        return _ROOT
    return None


def build_dir(root):
    """The build folder whose extension the source tree loads: $LOOM_BUILD_DIR, else <root>/build."""
    return os.path.normpath(os.path.join(root, os.environ.get("LOOM_BUILD_DIR") or "build"))


def _extension_in(folder):
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        path = os.path.join(folder, "_C" + suffix)
        if os.path.isfile(path):
            return path
    return None


def _not_built(root, build):
    shown = os.path.relpath(build, root) if build.startswith(root + os.sep) else build
    if os.environ.get("LOOM_BUILD_DIR"):
        msg = f"LOOM_BUILD_DIR={os.environ['LOOM_BUILD_DIR']}: {shown}/pkg/loom/ holds no loom._C for this Python"
    else:
        msg = (f"loom's extension is not built: {shown}/pkg/loom/ holds no loom._C for this Python. "
               f"Run `bash scripts/build.sh` (it builds {shown}/), or set LOOM_BUILD_DIR to a build folder")
    others = sorted({os.path.relpath(p, root).split(os.sep)[0]
                     for s in importlib.machinery.EXTENSION_SUFFIXES
                     for p in glob.glob(os.path.join(root, "*", "pkg", "loom", "_C" + s))} - {shown})
    if others:
        msg += ". Built elsewhere: " + ", ".join(f"LOOM_BUILD_DIR={o}" for o in others)
    return msg + f" (Python {sys.version.split()[0]} at {sys.executable})"


def load():
    """Imports loom._C from where the rules above say, registers it in sys.modules and returns it."""
    name = __package__ + "._C"
    if name in sys.modules:
        return sys.modules[name]
    root = source_root()
    if root is None:
        return importlib.import_module(name)
    build = build_dir(root)
    path = _extension_in(os.path.join(build, "pkg", "loom"))
    if path is None:
        raise ImportError(_not_built(root, build), name=name)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module
