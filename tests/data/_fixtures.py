"""What the make_*_fixtures.py scripts share: a tensor as JSON (shape, dtype, values; floats to 12 significant
digits, which the tests compare to about 1e-9) and writing a fixture file."""
import json
import math
import os

HERE = os.path.dirname(os.path.abspath(__file__))


def t2j(t):
    data = t.flatten().tolist()
    if t.is_floating_point():
        data = [x if math.isinf(x) else float("%.12g" % x) for x in data]
    return {"shape": list(t.shape), "dtype": str(t.dtype).replace("torch.", ""), "data": data}


def write(name, payload):
    """tests/data/<name>, one JSON line; prints the size."""
    path = os.path.join(HERE, name)
    with open(path, "w") as f:
        json.dump(payload, f)
        f.write("\n")
    print(name, os.path.getsize(path), "bytes")
