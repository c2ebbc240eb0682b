#!/usr/bin/env python3
"""Checks (or, with --fix, applies) the C++ / CUDA formatting of the tracked sources against .clang-format.

    python3 tools/check_format.py [--fix] [--clang-format PATH]

Exit status 1 naming every file that clang-format would change; 0 when all are clean. The files are those git
tracks (*.cpp, *.h, *.cu, *.cuh) minus the few that must keep their exact bytes (EXCLUDED)."""
import argparse
import os
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SUFFIXES = (".cpp", ".h", ".cu", ".cuh")
# Inputs of a byte-exact test: the launch rewriter's fixture.
EXCLUDED = {"tests/emu/rewrite_launches_fixture.cu"}


def sources():
    try:
        out = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
        files = out.split()
    except (OSError, subprocess.CalledProcessError):  # not a checkout: walk the tree, skipping build folders
        files = []
        for d, dirs, names in os.walk(ROOT):
            dirs[:] = [x for x in dirs if not x.startswith(("build", ".")) and x != "node_modules"]
            files += [os.path.relpath(os.path.join(d, n), ROOT) for n in names]
    return sorted(f for f in files if f.endswith(SUFFIXES) and f not in EXCLUDED)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--fix", action="store_true", help="rewrite the files in place")
    ap.add_argument("--clang-format", default=shutil.which("clang-format") or "clang-format")
    args = ap.parse_args()
    if not shutil.which(args.clang_format):
        print(f"check_format: {args.clang_format} not found (scripts/setup.sh installs clang-format)")
        return 2
    bad = []
    files = sources()
    for f in files:
        path = os.path.join(ROOT, f)
        if not os.path.exists(path):  # deleted in the working tree, not yet in the index
            continue
        with open(path, encoding="utf-8") as fh:
            before = fh.read()
        after = subprocess.run([args.clang_format, "--style=file", f"--assume-filename={path}", path],
                               capture_output=True, text=True, check=True).stdout
        if after != before:
            if args.fix:
                with open(path, "w", encoding="utf-8") as fh:
                    fh.write(after)
            bad.append(f)
    if args.fix:
        print(f"check_format: reformatted {len(bad)} of {len(files)} files")
        return 0
    if bad:
        print(f"check_format: {len(bad)} of {len(files)} files differ from .clang-format "
              "(python3 tools/check_format.py --fix):")
        for f in bad:
            print("  " + f)
        return 1
    print(f"check_format: {len(files)} files clean")
    return 0


if __name__ == "__main__":
    sys.exit(main())
