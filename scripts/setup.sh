#!/usr/bin/env bash
# Installs what building and testing loom needs on a Debian 12 machine.
# Idempotent: a second run changes nothing and returns quickly.
set -euo pipefail

SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
PY="${PYTHON:-python3}"

need_apt=()
for pkg in cmake ninja-build g++ zlib1g-dev libopenblas-dev libpng-dev libjpeg-dev libcatch2-dev dataset-fashion-mnist; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need_apt+=("$pkg")
done
# Catch2 v3 lives in bookworm-backports: derive a sources entry from the Debian one.
if dpkg-query -W -f='${Status}' libcatch2-dev 2>/dev/null | grep -q "install ok installed"; then :; else
  if [ -f /etc/os-release ] && grep -q 'VERSION_CODENAME=bookworm' /etc/os-release; then
    if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list.d/ /etc/apt/sources.list; then
      src=/etc/apt/sources.list.d/debian.sources
      if [ -f "$src" ]; then
        # Take the first stanza (the main archive) and rename its suites.
        awk 'BEGIN{RS="";ORS="\n\n"} NR==1{print}' "$src" \
          | sed -E 's/^Suites:.*/Suites: bookworm-backports/' \
          | $SUDO tee /etc/apt/sources.list.d/loom-backports.sources >/dev/null
      elif [ -f /etc/apt/sources.list ]; then
        grep -E '^deb .* bookworm main' /etc/apt/sources.list | head -n1 \
          | sed -E 's/ bookworm / bookworm-backports /' \
          | $SUDO tee /etc/apt/sources.list.d/loom-backports.list >/dev/null
      fi
    fi
  fi
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  plain=()
  for pkg in "${need_apt[@]}"; do [ "$pkg" = libcatch2-dev ] || plain+=("$pkg"); done
  if [ ${#plain[@]} -gt 0 ]; then
    $SUDO apt-get install -y -qq --no-install-recommends "${plain[@]}" >/dev/null
  fi
  if printf '%s\n' "${need_apt[@]}" | grep -qx libcatch2-dev; then
    $SUDO apt-get install -y -qq --no-install-recommends -t bookworm-backports libcatch2-dev >/dev/null \
      || $SUDO apt-get install -y -qq --no-install-recommends libcatch2-dev >/dev/null
  fi
fi

"$PY" - <<'PYEOF' || "$PY" -m pip install -q --disable-pip-version-check pybind11 numpy pytest scikit-build-core safetensors hypothesis matplotlib
import importlib.util, sys
missing = [m for m in ("pybind11", "numpy", "pytest", "scikit_build_core", "safetensors", "hypothesis", "matplotlib") if importlib.util.find_spec(m) is None]
sys.exit(1 if missing else 0)
PYEOF
