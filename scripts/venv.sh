# shellcheck shell=bash
# Sourced by the scripts (from the repository root): LOOM_PY is the Python of
# the virtual environment .venv/, made first by `scripts/setup.sh --venv` when
# it is missing. CMake gets it as Python_EXECUTABLE; pytest, the examples and
# the helpers run under it.
LOOM_PY="$PWD/.venv/bin/python"
if ! { [ -x "$LOOM_PY" ] && "$LOOM_PY" -c '' 2>/dev/null; }; then
  bash scripts/setup.sh --venv
fi
