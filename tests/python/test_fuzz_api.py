"""Bounded run of the API fuzzer (tests/python/fuzz): a fixed seed and a fixed number of
examples per op, so the run is deterministic. It fails on any failure that is not listed
in fuzz/known.py (KNOWN_FAILURES): a new crash, hang, wrong value or dtype, or abnormal
exception. A longer run: scripts/fuzz_api.sh [seconds]."""
import os
import sys

import pytest

pytest.importorskip("hypothesis")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from fuzz import runner  # noqa: E402
from fuzz.ops_generic import SKIP, public_names  # noqa: E402

SEED = 20261204
EXAMPLES = int(os.environ.get("LOOM_FUZZ_EXAMPLES", "40"))
# The generic family (no reference: "no crash, a normal exception") has most of the ops; fewer examples
# each keep the bounded run short. scripts/fuzz_api.sh runs them all with the full count.
GENERIC_EXAMPLES = int(os.environ.get("LOOM_FUZZ_GENERIC_EXAMPLES", "20"))


def test_every_public_name_is_fuzzed_or_skipped_with_a_reason():
    table = runner.op_table()
    missing = [n for n in public_names() if n not in table and n not in SKIP]
    assert not missing, missing


def test_runner_isolates_crashes_and_hangs(monkeypatch):
    monkeypatch.setenv("LOOM_FUZZ_SELFTEST", "1")
    report = runner.run(["selftest.crash", "selftest.hang"], seed=1, max_examples=1, jobs=2, hang_seconds=3, restarts=0)
    kinds = {r["op"]: r for r in report.failures.values()}
    assert kinds["selftest.crash"]["kind"] == "crash" and "SIGSEGV" in kinds["selftest.crash"]["detail"]
    assert "os.kill" in kinds["selftest.crash"]["snippet"]
    assert kinds["selftest.hang"]["kind"] == "hang"
    assert report.new_failures()


def test_fuzz_public_api():
    ops = runner.select_ops(runner.op_table(), [])
    # 40 ops per worker process: each start imports loom, numpy and Hypothesis and builds the op table
    # (about half a second), which chunks of 6 (the runner's default, for long runs) paid 200 times.
    report = runner.run(ops, seed=SEED, max_examples=EXAMPLES, jobs=min(2, os.cpu_count() or 1), chunk_size=40,
                        hang_seconds=60, generic_examples=GENERIC_EXAMPLES)
    assert not report.fuzzer_errors, report.text()
    assert not report.new_failures(), "new API fuzz failures (add a fix, or a KNOWN_FAILURES entry naming the issue):\n" + report.text()
