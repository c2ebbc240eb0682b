#!/usr/bin/env bash
# Long run of the API fuzzer (tests/python/fuzz): rounds of every op with new seeds until
# the time budget is spent; crashes and hangs are isolated per chunk and reported with a
# runnable snippet. Usage: scripts/fuzz_api.sh [seconds=3600] [runner options...]
#   LOOM_FUZZ_SEED=N     first seed (default: from the clock, printed for reproduction)
#   LOOM_FUZZ_EXAMPLES=N examples per op and round (default 300)
# Failures are shrunk (Hypothesis) to a minimal snippet. It runs in .venv/ (scripts/setup.sh)
# against the extension of build/, or of LOOM_BUILD_DIR.
# Example: scripts/fuzz_api.sh 600 --ops 'F.*,Tensor.*_' --no-known
set -euo pipefail
cd "$(dirname "$0")/.."
budget="${1:-3600}"
[ $# -gt 0 ] && shift
. scripts/venv.sh
PY="$LOOM_PY"
"$PY" -c "import hypothesis" 2>/dev/null || bash scripts/setup.sh --venv
seed="${LOOM_FUZZ_SEED:-$(date +%s)}"
echo "loom API fuzzer: ${budget}s, first seed ${seed} (rerun with LOOM_FUZZ_SEED=${seed})" >&2
exec "$PY" tests/python/fuzz/runner.py --seconds "$budget" --seed "$seed" \
  --max-examples "${LOOM_FUZZ_EXAMPLES:-300}" --shrink "$@"
