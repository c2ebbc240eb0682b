"""Property-based API fuzzer for loom (see docs/testing.md, "API fuzzer").

Modules: strategies (tensors, views, values, snippets), references (PyTorch
type promotion, NumPy references, comparison), ops (the op table), known
(KNOWN_FAILURES), check (the property for one call), worker (runs a chunk of
ops in a subprocess) and runner (the CLI that isolates crashes and reports).
None of them is named test_*, so pytest does not collect them.
"""
import importlib.util as _util
import os as _os
import sys as _sys

if _util.find_spec("loom") is None:  # loom from the source tree (python/loom/_extension.py: which build)
    _sys.path.insert(0, _os.path.join(_os.path.dirname(_os.path.dirname(_os.path.dirname(_os.path.dirname(
        _os.path.abspath(__file__))))), "python"))
