"""API fuzzer CLI: runs chunks of ops in worker subprocesses, isolates crashes and hangs,
and prints every distinct failure with a runnable snippet.

    python3 tests/python/fuzz/runner.py --seed 1 --max-examples 200
    python3 tests/python/fuzz/runner.py --ops add,sum,Tensor.flip --no-known
    python3 tests/python/fuzz/runner.py --seconds 3600          # rounds with new seeds until time is up
    python3 tests/python/fuzz/runner.py --list                  # the op table

Exit status: 0 when every failure found is in KNOWN_FAILURES, 1 otherwise.
"""
import argparse
import fnmatch
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

if __package__ in (None, ""):  # run as a script: make the fuzz directory an importable package
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    __package__ = "fuzz"
    import fuzz  # noqa: F401

from .check import SEVERITY  # noqa: E402
from .known import match_known  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
WORKER = os.path.join(HERE, "worker.py")


def op_table():
    from .ops import all_ops

    return all_ops()


def select_ops(table, patterns):
    """Ops whose full or bare name matches a pattern (fnmatch): `add` selects loom.add,
    Tensor.add and Tensor.__add__; `bitwise*` loom.bitwise_and, Tensor.bitwise_and_, ...;
    `Tensor.*_` every in-place method."""
    if not patterns:
        return sorted(table)
    out = []
    for op in sorted(table):
        bare = op.split(".", 1)[1]
        for p in patterns:
            if fnmatch.fnmatchcase(op, p) or fnmatch.fnmatchcase(bare, p) or bare.strip("_") in (p, "r" + p, "i" + p) or bare.split("(")[0] == p:
                out.append(op)
                break
    return out


def snapshot_loom(tmpdir):
    """Copies the loom package with the extension it loads (from a build folder's pkg/loom/
    when loom comes from the source tree) so that workers keep running the build the run
    started with while someone rebuilds it."""
    import loom

    src = os.path.dirname(os.path.abspath(loom.__file__))
    dst = os.path.join(tmpdir, "pkg")
    shutil.copytree(src, os.path.join(dst, "loom"), ignore=shutil.ignore_patterns("__pycache__", "_C.*"))
    shutil.copy2(loom._C.__file__, os.path.join(dst, "loom"))
    return dst


def _env(loom_path=None):
    env = dict(os.environ)
    paths = ([loom_path] if loom_path else []) + [os.path.join(REPO, "python"), REPO]
    if env.get("PYTHONPATH"):
        paths.append(env["PYTHONPATH"])
    env["PYTHONPATH"] = os.pathsep.join(paths)
    env.setdefault("OMP_NUM_THREADS", "1")
    return env


class Job:
    def __init__(self, ops, seed, args, tmpdir, deadline, loom_path=None, device="cpu"):
        self.device = device
        self.ops = ops
        self.seed = seed
        self.results = tempfile.mktemp(suffix=".jsonl", dir=tmpdir)
        self.heartbeat = tempfile.mktemp(suffix=".hb", dir=tmpdir)
        cmd = [sys.executable, WORKER, "--ops", ",".join(ops), "--seed", str(seed),
               "--max-examples", str(args.max_examples), "--results", self.results, "--heartbeat", self.heartbeat,
               "--deadline", repr(deadline)]
        if getattr(args, "generic_examples", 0):
            cmd += ["--generic-examples", str(args.generic_examples)]
        if args.no_known:
            cmd.append("--no-known")
        if args.shrink:
            cmd.append("--shrink")
        if device != "cpu":
            cmd += ["--device", device]
        self.started = time.time()
        self.stderr_path = self.results + ".err"
        with open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(cmd, cwd=REPO, env=_env(loom_path), stdout=subprocess.DEVNULL, stderr=err,
                                         start_new_session=True)
        self.offset = 0

    def heartbeat_state(self):
        try:
            with open(self.heartbeat) as f:
                return json.load(f), os.path.getmtime(self.heartbeat)
        except (OSError, ValueError):
            return None, self.started

    def read_results(self):
        recs = []
        try:
            with open(self.results) as f:
                f.seek(self.offset)
                data = f.read()
        except OSError:
            return recs
        lines = data.split("\n")
        complete, rest = lines[:-1], lines[-1]
        self.offset += len(data) - len(rest)
        for line in complete:
            if line.strip():
                recs.append(json.loads(line))
        return recs

    def kill(self):
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except OSError:
            pass
        self.proc.wait()


class Report:
    def __init__(self, known_enabled=True):
        self.failures = {}  # sig -> record (smallest snippet)
        self.counts = {}
        self.ops_done = {}
        self.fuzzer_errors = []
        self.known_enabled = known_enabled

    def add(self, rec):
        t = rec.get("type")
        if t == "op_done":
            d = self.ops_done.setdefault(rec["op"], {"examples": 0, "known": 0, "skipped": 0, "seconds": 0.0})
            for k in ("examples", "known", "skipped", "seconds"):
                d[k] += rec.get(k, 0)
            return
        if t == "fuzzer-error":
            self.fuzzer_errors.append(rec)
            return
        sig = rec["sig"]
        self.counts[sig] = self.counts.get(sig, 0) + 1
        old = self.failures.get(sig)
        if old is None or len(rec["snippet"] or "") < len(old["snippet"] or ""):
            if self.known_enabled:
                rec["known"] = match_known(rec["op"], rec["kind"], rec.get("tags", ()), rec.get("detail", ""))
            self.failures[sig] = rec

    def new_failures(self):
        return [r for r in self.failures.values() if not r.get("known")]

    def ordered(self):
        return sorted(self.failures.values(), key=lambda r: (SEVERITY.index(r["kind"]), r["op"], r.get("subkey", "")))

    def text(self, show_known=False):
        out = []
        rows = [r for r in self.ordered() if show_known or not r.get("known")]
        n_known = sum(1 for r in self.failures.values() if r.get("known"))
        total_ex = sum(d["examples"] for d in self.ops_done.values())
        out.append("loom API fuzzer: %d ops run, %d examples, %d distinct failures (%d known, %d new)"
                   % (len(self.ops_done), total_ex, len(self.failures), n_known, len(self.failures) - n_known))
        for i, r in enumerate(rows, 1):
            out.append("")
            out.append("[%d] %s  %s%s" % (i, r["kind"].upper(), r["op"], "  (known: %s)" % r["known"] if r.get("known") else ""))
            out.append("    %s" % " ".join(r["detail"].split())[:500])
            if r.get("expected"):
                out.append("    expected: %s" % r["expected"])
            if r.get("snippet"):
                out.append("    --- reproduce (seed %s) ---" % r.get("seed"))
                out.extend("    " + line for line in r["snippet"].rstrip().split("\n"))
        for e in self.fuzzer_errors:
            out.append("")
            out.append("FUZZER ERROR in %s: %s" % (e["op"], e["detail"]))
        return "\n".join(out)


def _death(job, rc, report, hang=False):
    state, _ = job.heartbeat_state()
    op = state.get("op") if state else job.ops[0]
    snippet = state.get("snippet") if state else None
    tags = state.get("tags", []) if state else []
    if hang:
        kind, detail = "hang", "no progress for the hang timeout; killed"
    else:
        sig = -rc if rc < 0 else None
        name = signal.Signals(sig).name if sig else "exit status %d" % rc
        try:
            with open(job.stderr_path, "rb") as f:
                err = f.read().decode(errors="replace").strip().splitlines()
        except OSError:
            err = []
        kind, detail = "crash", "worker died (%s)%s" % (name, (": " + err[-1][:300]) if err else "")
        if sig is None and any("ImportError" in line or "ModuleNotFoundError" in line for line in err[-3:]):
            report.fuzzer_errors.append({"op": op, "detail": "worker could not start: %s" % err[-1][:300]})
            return op
    shown = op if job.device == "cpu" else "%s [%s]" % (op, job.device)
    report.add({"type": "failure", "sig": "%s|%s|%s" % (shown, kind, "" if hang else detail.split(":")[0]), "op": shown, "kind": kind,
                "subkey": "", "detail": detail, "snippet": snippet, "tags": tags, "seed": job.seed,
                "expected": "return or raise a normal exception"})
    return op


def run(ops, seed=0, max_examples=100, seconds=None, jobs=2, chunk_size=6, hang_seconds=30.0, no_known=False,
        shrink=False, log=None, restarts=2, snapshot=True, devices=None, generic_examples=0):
    """Fuzzes `ops` and returns a Report. With `seconds`, repeats rounds with seeds seed, seed+1, ...
    until the budget is spent (examples in flight stop at the deadline). generic_examples (when set): the
    examples per op of the generic (no-crash-only) family."""
    args = argparse.Namespace(max_examples=max_examples, no_known=no_known, shrink=shrink,
                              generic_examples=generic_examples)
    report = Report(known_enabled=not no_known)
    if devices is None:
        import loom

        devices = ["cpu"] + (["cuda"] if loom.cuda.is_available() else [])
    start = time.time()
    deadline = start + seconds if seconds else float("inf")
    tmpdir = tempfile.mkdtemp(prefix="loom-fuzz-")
    loom_path = snapshot_loom(tmpdir) if snapshot else None
    rnd = 0
    while True:
        queue = [(ops[i:i + chunk_size], seed + rnd, 0, dev) for dev in devices for i in range(0, len(ops), chunk_size)]
        running = []
        while queue or running:
            while queue and len(running) < jobs and time.time() < deadline:
                chunk, s, tries, dev = queue.pop(0)
                job = Job(chunk, s, args, tmpdir, deadline, loom_path, dev)
                job.tries = tries
                running.append(job)
            if not running:
                break
            time.sleep(0.05)
            for job in list(running):
                for rec in job.read_results():
                    report.add(rec)
                rc = job.proc.poll()
                state, mtime = job.heartbeat_state()
                hung = rc is None and time.time() - mtime > hang_seconds
                if rc is None and not hung:
                    continue
                if hung:
                    job.kill()
                for rec in job.read_results():
                    report.add(rec)
                running.remove(job)
                if rc == 0:
                    continue
                op = _death(job, rc if rc is not None else -9, report, hang=hung)
                if log:
                    log("%s in %s (chunk %s)" % ("hang" if hung else "crash", op, ",".join(job.ops)))
                done = set(report.ops_done)
                rest = [o for o in job.ops if o not in done and o != op]
                if op in job.ops and job.tries < restarts:
                    rest = [op] + rest  # same op again with another seed: find more than its first crash
                if rest:
                    queue.insert(0, (rest, job.seed + 7919 * (job.tries + 1), job.tries + 1, job.device))
        rnd += 1
        if not seconds or time.time() >= deadline:
            break
    shutil.rmtree(tmpdir, ignore_errors=True)
    return report


def main(argv=None):
    p = argparse.ArgumentParser(description="Property-based fuzzer of loom's public API")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--ops", default="", help="comma-separated names or patterns (add, Tensor.sum, F.*, Tensor.*_)")
    p.add_argument("--max-examples", type=int, default=100, help="examples per op and round")
    p.add_argument("--seconds", type=float, default=None, help="time budget; repeats rounds with new seeds")
    p.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    p.add_argument("--chunk-size", type=int, default=6, help="ops per worker process")
    p.add_argument("--hang-seconds", type=float, default=30.0)
    p.add_argument("--no-known", action="store_true", help="ignore KNOWN_FAILURES: run and report everything")
    p.add_argument("--shrink", action="store_true", help="let Hypothesis shrink failures (slower)")
    p.add_argument("--show-known", action="store_true")
    p.add_argument("--devices", default=None, help="cpu,cuda (default: cpu, plus cuda when loom.cuda.is_available())")
    p.add_argument("--json", help="write the failures as JSON here")
    p.add_argument("--list", action="store_true", help="print the op table and exit")
    a = p.parse_args(argv)
    table = op_table()
    ops = select_ops(table, [s.strip() for s in a.ops.split(",") if s.strip()])
    if a.list:
        for op in ops:
            print("%-40s %-8s %s" % (op, table[op].family, "reference" if table[op].has_ref else "no crash only"))
        return 0
    if not ops:
        print("no op matches %r" % a.ops, file=sys.stderr)
        return 2
    report = run(ops, a.seed, a.max_examples, a.seconds, a.jobs, a.chunk_size, a.hang_seconds, a.no_known, a.shrink,
                 log=lambda m: print(m, file=sys.stderr, flush=True),
                 devices=a.devices.split(",") if a.devices else None)
    print(report.text(show_known=a.show_known or a.no_known))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(report.ordered(), f, indent=1)
    return 1 if report.new_failures() or report.fuzzer_errors else 0


if __name__ == "__main__":
    sys.exit(main())
