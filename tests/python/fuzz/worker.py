"""Runs the fuzzer over a chunk of ops in this process (the runner starts it as a subprocess).

Before each call it writes the op and the snippet to the heartbeat file, so that when the
process dies (segfault) or stops answering (hang) the runner can print what it was doing.
Failures go to the results file as JSON lines as soon as they are found.
"""
import argparse
import json
import os
import sys
import time
import zlib

if __package__ in (None, ""):  # run as a script: make the fuzz directory an importable package
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    __package__ = "fuzz"
    import fuzz  # noqa: F401

from hypothesis import HealthCheck, Phase, Verbosity, given, seed, settings  # noqa: E402

from .check import run_example  # noqa: E402
from .known import match_known, skip_known  # noqa: E402
from .ops import all_ops  # noqa: E402


def op_seed(global_seed, op):
    return (global_seed * 1000003 + zlib.crc32(op.encode())) % (2**32)


class Chunk:
    def __init__(self, args, loom):
        self.args = args
        self.loom = loom
        self.best = {}  # signature -> snippet size already reported
        self.results = open(args.results, "a", buffering=1)
        self.hb = args.heartbeat

    def beat(self, payload):
        tmp = self.hb + ".tmp"
        with open(tmp, "w") as f:
            f.write(json.dumps(payload))
        os.replace(tmp, self.hb)

    def emit(self, rec):
        self.results.write(json.dumps(rec) + "\n")
        self.results.flush()

    def run_op(self, spec):
        args = self.args
        stats = {"examples": 0, "known": 0, "skipped": 0, "failures": 0}
        loom = self.loom
        chunk = self

        class Interesting(Exception):
            pass

        exc_classes = {}

        def prop(ex):
            if time.time() > args.deadline:
                return
            stats["examples"] += 1
            snippet = ex.snippet()
            if not args.no_known and skip_known(ex.op, ex.tags):
                stats["skipped"] += 1
                return
            chunk.beat({"op": ex.op, "snippet": snippet, "tags": sorted(ex.tags), "t": time.time()})
            fail = run_example(ex, loom)
            if fail is None:
                return
            known = None if args.no_known else match_known(fail.op or ex.op, fail.kind, ex.tags, fail.detail)
            if known:
                stats["known"] += 1
                return
            op = (fail.op or ex.op) + ("" if args.device == "cpu" else " [%s]" % args.device)
            sig = "%s|%s|%s" % (op, fail.kind, fail.subkey)
            size = len(snippet)
            if sig not in chunk.best or size < chunk.best[sig]:
                chunk.best[sig] = size
                stats["failures"] += 1
                chunk.emit({"type": "failure", "sig": sig, "op": op, "kind": fail.kind, "subkey": fail.subkey,
                            "detail": fail.detail, "snippet": snippet, "tags": sorted(ex.tags), "seed": args.seed,
                            "expected": ex.expect.describe()})
            if args.shrink:
                cls = exc_classes.setdefault(sig, type("Fail_%d" % len(exc_classes), (Interesting,), {}))
                raise cls(sig)

        phases = [Phase.explicit, Phase.generate] + ([Phase.shrink] if args.shrink else [])
        n = args.generic_examples if spec.family == "generic" and args.generic_examples else args.max_examples
        test = settings(max_examples=n, database=None, deadline=None, phases=phases,
                        suppress_health_check=list(HealthCheck), report_multiple_bugs=True,
                        print_blob=False, verbosity=Verbosity.quiet)(given(spec.strategy)(prop))
        test = seed(op_seed(args.seed, spec.name))(test)
        t0 = time.time()
        try:
            test()
        except Interesting:
            pass
        except BaseException as e:  # ExceptionGroup of Interesting, or a fuzzer bug
            if isinstance(e, KeyboardInterrupt):
                raise
            inner = getattr(e, "exceptions", None)
            if not inner or not all(isinstance(x, Interesting) for x in inner):
                self.emit({"type": "fuzzer-error", "op": spec.name, "detail": "%s: %s" % (type(e).__name__, e)})
        self.emit({"type": "op_done", "op": spec.name, "seconds": round(time.time() - t0, 2), **stats})


def limit_address_space(device):
    """Caps this worker's address space (LOOM_FUZZ_MEMORY_GB, 12 by default; 0: no cap) on the CPU: a call
    whose valid result is tens of GB (repeat_interleave(2**31) of a float64 value, as PyTorch would allocate
    it) then fails at once with loom's OutOfMemoryError instead of filling memory until the hang timeout.
    Not on a GPU run: the CUDA driver reserves far more address space than it uses."""
    gb = float(os.environ.get("LOOM_FUZZ_MEMORY_GB", "12"))
    if device != "cpu" or gb <= 0:
        return
    import resource

    cap = int(gb * 2**30)
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    if soft == resource.RLIM_INFINITY or soft > cap:
        resource.setrlimit(resource.RLIMIT_AS, (cap, hard))


def main(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument("--ops", required=True)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--max-examples", type=int, default=100)
    p.add_argument("--generic-examples", type=int, default=0, help="examples of the generic family (0: max-examples)")
    p.add_argument("--deadline", type=float, default=float("inf"))
    p.add_argument("--results", required=True)
    p.add_argument("--heartbeat", required=True)
    p.add_argument("--no-known", action="store_true")
    p.add_argument("--shrink", action="store_true")
    p.add_argument("--device", default="cpu")
    args = p.parse_args(argv)
    limit_address_space(args.device)
    from . import strategies

    strategies.DEVICE = args.device
    import loom

    loom.manual_seed(args.seed)
    table = all_ops()
    chunk = Chunk(args, loom)
    for name in args.ops.split(","):
        chunk.beat({"op": name, "snippet": None, "t": time.time()})
        chunk.run_op(table[name])
    chunk.beat({"op": None, "snippet": None, "t": time.time(), "done": True})


if __name__ == "__main__":
    main()
