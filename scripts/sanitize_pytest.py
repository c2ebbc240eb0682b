"""pytest and ctest under AddressSanitizer + UBSan, for scripts/sanitize.sh.

pytest: the sanitized extension (<build>/pkg/loom) is imported into an
unsanitized python3 with the ASan runtime preloaded. A sanitizer report aborts
the whole pytest process, so this driver records the test that was running,
restarts pytest without the tests already run, and repeats until every test has
run; the exit status is non-zero when any test crashed or failed.

ctest: `--ctest-log <LastTest.log>` lists the tests whose output holds a
sanitizer report.

    .venv/bin/python scripts/sanitize_pytest.py --pkg build-asan/pkg --state build-asan/pytest -- tests/python -q
    .venv/bin/python scripts/sanitize_pytest.py --ctest-log build-asan/Testing/Temporary/LastTest.log
"""
import argparse
import os
import re
import subprocess
import sys

REPORT = re.compile(r"ERROR: (AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer)|Sanitizer: CHECK failed|"
                    r"^\S+:\d+:\d+: runtime error:|AddressSanitizer:DEADLYSIGNAL", re.M)
# pytest: 0 all passed, 1 some failed, 5 nothing collected (all already run).
PYTEST_OK = (0, 1, 5)


def report_excerpt(text, limit=60):
    """The first sanitizer report of text: from its first line to SUMMARY (at most limit lines)."""
    m = REPORT.search(text)
    if not m:
        return ""
    lines = text[text.rfind("\n", 0, m.start()) + 1:].splitlines()
    out = []
    for line in lines[:limit]:
        out.append(line)
        if line.startswith("SUMMARY:"):
            break
    return "\n".join(out)


def read_lines(path):
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8", errors="replace") as f:
        return [line.rstrip("\n") for line in f if line.strip()]


class Recorder:
    """pytest plugin (child side): skips the tests already run, records the running one."""

    def __init__(self, state):
        self.state = state
        self.done = set(read_lines(os.path.join(state, "done")))
        self.done_file = open(os.path.join(state, "done"), "a", encoding="utf-8")
        self.failed_file = open(os.path.join(state, "failed"), "a", encoding="utf-8")

    def pytest_collection_modifyitems(self, session, config, items):
        keep = [i for i in items if i.nodeid not in self.done]
        dropped = [i for i in items if i.nodeid in self.done]
        if dropped:
            config.hook.pytest_deselected(items=dropped)
            items[:] = keep

    def pytest_runtest_logstart(self, nodeid, location):
        with open(os.path.join(self.state, "current"), "w", encoding="utf-8") as f:
            f.write(nodeid)

    def pytest_runtest_logreport(self, report):
        if report.failed:
            self.failed_file.write(f"{report.nodeid} ({report.when})\n")
            self.failed_file.flush()

    def pytest_runtest_logfinish(self, nodeid, location):
        self.done_file.write(nodeid + "\n")
        self.done_file.flush()

    def pytest_sessionfinish(self, session, exitstatus):
        # A sanitizer exits with status 1 like failed tests do: this marks a normal end.
        with open(os.path.join(self.state, "finished"), "w", encoding="utf-8") as f:
            f.write(str(int(exitstatus)))


def child(pkg, state, pytest_args):
    # Subprocesses that tests start keep the preloaded runtime (they may import
    # this sanitized build, as the API fuzzer's workers do), but die of a SIGSEGV
    # as they would without ASan: the tests that isolate crashes expect that.
    os.environ["ASAN_OPTIONS"] = os.environ.get("ASAN_OPTIONS", "") + ":handle_segv=0"
    sys.path.insert(0, pkg)
    import loom  # the sanitized build; conftest's `import loom` then reuses it

    here = os.path.dirname(os.path.abspath(loom.__file__))
    if here != os.path.join(os.path.abspath(pkg), "loom"):
        sys.exit(f"sanitize: imported loom from {here}, expected {pkg}/loom")
    import pytest

    sys.exit(pytest.main(pytest_args, plugins=[Recorder(state)]))


def parent(pkg, state, pytest_args):
    os.makedirs(state, exist_ok=True)
    for name in ("done", "failed", "current", "crashed", "finished"):
        if os.path.exists(os.path.join(state, name)):
            os.remove(os.path.join(state, name))
    env = dict(os.environ)
    if env.get("SANITIZE_PRELOAD"):
        env["LD_PRELOAD"] = env["SANITIZE_PRELOAD"]
    crashes = []  # (nodeid, excerpt)
    log = open(os.path.join(state, "pytest.log"), "w", encoding="utf-8")
    for attempt in range(200):
        cur, finished = os.path.join(state, "current"), os.path.join(state, "finished")
        for path in (cur, finished):
            if os.path.exists(path):
                os.remove(path)
        proc = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--child", "--pkg", pkg, "--state", state,
                                 "--", *pytest_args], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, errors="replace")
        chunks = []
        for line in proc.stdout:
            sys.stdout.write(line)
            sys.stdout.flush()
            log.write(line)
            chunks.append(line)
        rc = proc.wait()
        text = "".join(chunks)
        excerpt = report_excerpt(text)
        if not excerpt and rc in PYTEST_OK and os.path.exists(finished):
            break
        nodeid = read_lines(cur)[0] if read_lines(cur) else None
        done = set(read_lines(os.path.join(state, "done")))
        if nodeid is None or nodeid in done:
            crashes.append((nodeid or "<outside any test: collection or teardown>",
                            excerpt or f"pytest exited with status {rc} without a sanitizer report"))
            print(f"sanitize: pytest stopped (status {rc}) outside a test; not restarting", flush=True)
            break
        crashes.append((nodeid, excerpt or f"process died with status {rc} without a sanitizer report"))
        with open(os.path.join(state, "done"), "a", encoding="utf-8") as f:
            f.write(nodeid + "\n")
        with open(os.path.join(state, "crashed"), "a", encoding="utf-8") as f:
            f.write(nodeid + "\n")
        print(f"\nsanitize: {nodeid} crashed (status {rc}); restarting pytest without the tests already run\n",
              flush=True)
    failed = read_lines(os.path.join(state, "failed"))
    print("\n======== sanitize: pytest summary ========")
    print(f"tests run: {len(set(read_lines(os.path.join(state, 'done'))))}, failed: {len(failed)}, "
          f"crashed: {len(crashes)}")
    for f in failed:
        print(f"FAILED  {f}")
    for nodeid, excerpt in crashes:
        print(f"\nCRASHED {nodeid}\n{excerpt}")
    return 1 if failed or crashes else 0


def ctest_summary(path):
    """Prints the ctest tests whose output holds a sanitizer report; returns how many."""
    with open(path, encoding="utf-8", errors="replace") as f:
        text = f.read()
    blocks = re.split(r"^\d+/\d+ Testing: ", text, flags=re.M)[1:]
    hits = []
    for b in blocks:
        name = b.splitlines()[0].strip()
        excerpt = report_excerpt(b)
        if excerpt:
            hits.append((name, excerpt))
    print("\n======== sanitize: ctest sanitizer reports ========")
    print(f"tests with a report: {len(hits)}")
    for name, excerpt in hits:
        print(f"\nREPORT  {name}\n{excerpt}")
    return len(hits)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pkg")
    ap.add_argument("--state")
    ap.add_argument("--child", action="store_true")
    ap.add_argument("--ctest-log")
    ap.add_argument("pytest_args", nargs="*")
    a = ap.parse_args()
    if a.ctest_log:
        sys.exit(1 if ctest_summary(a.ctest_log) else 0)
    if a.child:
        child(a.pkg, a.state, a.pytest_args)
    sys.exit(parent(a.pkg, a.state, a.pytest_args))


if __name__ == "__main__":
    main()
