#!/usr/bin/env bash
# Installs what building and testing loom needs on a Debian 12 machine:
#   - apt: CMake, Ninja, g++, ccache, zlib, OpenBLAS, libpng, libjpeg, Fashion-MNIST,
#     and Catch2 >= 3.4 (bookworm-backports on Debian 12; never Catch2 v2);
#   - the virtual environment .venv/ at the repository root with the Python
#     packages (python3-venv / python3-dev from apt when the interpreter lacks
#     venv or Python.h). Every script runs Python as .venv/bin/python.
# Idempotent: a second run changes nothing, calls neither apt nor pip, and
# returns in about a second.
#
#   bash scripts/setup.sh            # everything
#   bash scripts/setup.sh --venv     # only .venv/ (what the other scripts run when it is missing)
#   PYTHON=/usr/bin/python3.11 bash scripts/setup.sh   # the interpreter that creates .venv/
#                                    # (default: python3 on PATH); a .venv/ made by another
#                                    # interpreter is recreated when PYTHON is given
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
VENV="$ROOT/.venv"
PY="${PYTHON:-python3}"
ONLY_VENV=0
for arg in "$@"; do
  case "$arg" in
    --venv) ONLY_VENV=1 ;;
    *) echo "setup.sh: unknown argument $arg (see the header of this script)" >&2; exit 2 ;;
  esac
done

SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
APT_UPDATED=0
apt_install() {  # apt_install [apt-get install options...] PACKAGE...
  export DEBIAN_FRONTEND=noninteractive
  if [ "$APT_UPDATED" = 0 ]; then $SUDO apt-get update -qq; APT_UPDATED=1; fi
  $SUDO apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

# ---- Catch2 >= 3.4 (tests/CMakeLists.txt: find_package(Catch2 3.4 REQUIRED)) ----
# Debian 12 ships Catch2 2.13 in main and 3.x in bookworm-backports. The version
# is read from the headers, so a Catch2 built from source into /usr/local counts.
catch2_version() {
  local h
  for h in /usr/local/include/catch2/catch_version_macros.hpp /usr/include/catch2/catch_version_macros.hpp \
           /usr/local/include/catch2/catch.hpp /usr/include/catch2/catch.hpp; do
    if [ -f "$h" ] && grep -q '#define CATCH_VERSION_MAJOR' "$h"; then
      awk '/#define CATCH_VERSION_(MAJOR|MINOR|PATCH) /{v[$2]=$3} END{print v["CATCH_VERSION_MAJOR"]"."v["CATCH_VERSION_MINOR"]"."v["CATCH_VERSION_PATCH"]}' "$h"
      return
    fi
  done
}
catch2_ok() {
  local v; v="$(catch2_version)"
  [ -n "$v" ] && dpkg --compare-versions "$v" ge 3.4
}
codename() { (. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}"); }
SOURCES_D=/etc/apt/sources.list.d
SOURCES_LIST=/etc/apt/sources.list
has_backports() { grep -qs '^[^#]*bookworm-backports' "$SOURCES_D"/*.list "$SOURCES_D"/*.sources "$SOURCES_LIST"; }
# A bookworm-backports entry derived from the machine's own Debian entry (same
# mirror, components and key), printed on stdout; empty when there is none.
backports_entry() {
  if [ -f "$SOURCES_D/debian.sources" ]; then
    # The first stanza (the main archive) with its suites renamed.
    awk 'BEGIN{RS="";ORS="\n"} NR==1{print}' "$SOURCES_D/debian.sources" | sed -E 's/^Suites:.*/Suites: bookworm-backports/'
  elif [ -f "$SOURCES_LIST" ]; then
    grep -E '^deb .* bookworm( |$)' "$SOURCES_LIST" | head -n1 | sed -E 's/ bookworm( |$)/ bookworm-backports\1/'
  fi
  return 0
}
backports_file() {
  if [ -f "$SOURCES_D/debian.sources" ]; then echo "$SOURCES_D/loom-backports.sources"
  else echo "$SOURCES_D/loom-backports.list"; fi
}
catch2_fail() {
  {
    echo "setup.sh: loom's tests need Catch2 >= 3.4; found: ${1:-none}."
    if [ "$(codename)" = bookworm ]; then
      echo "On Debian 12 it comes from bookworm-backports (Debian 12's own libcatch2-dev is v2, which does not build the tests)."
      local entry; entry="$(backports_entry)"
      if has_backports; then
        echo "bookworm-backports is in the APT sources, but libcatch2-dev did not install from it (see apt's message above). Try:"
        echo "    sudo apt-get update && sudo apt-get install -t bookworm-backports libcatch2-dev"
      elif [ -n "$entry" ]; then
        echo "Enable bookworm-backports with this entry, derived from this machine's Debian source, in $(backports_file):"
        echo
        echo "$entry" | sed 's/^/    /'
        echo
        echo "then run: sudo apt-get update && sudo apt-get install -t bookworm-backports libcatch2-dev"
      else
        echo "Add bookworm-backports to your APT sources (https://backports.debian.org/Instructions/), then run:"
        echo "    sudo apt-get update && sudo apt-get install -t bookworm-backports libcatch2-dev"
      fi
    else
      echo "Install libcatch2-dev >= 3.4 from your distribution, or Catch2 v3 from source (https://github.com/catchorg/Catch2)."
    fi
    echo "Then run this script again."
  } >&2
  exit 1
}

if [ "$ONLY_VENV" = 0 ]; then
  need_apt=()
  for pkg in cmake ninja-build g++ ccache zlib1g-dev libopenblas-dev libpng-dev libjpeg-dev clang-format dataset-fashion-mnist; do
    installed "$pkg" || need_apt+=("$pkg")
  done
  if [ ${#need_apt[@]} -gt 0 ]; then apt_install "${need_apt[@]}"; fi

  if ! catch2_ok; then
    if [ "$(codename)" = bookworm ]; then
      if ! has_backports; then
        entry="$(backports_entry)"
        if [ -n "$entry" ]; then
          echo "setup.sh: adding bookworm-backports (for Catch2 v3) as $(backports_file)"
          echo "$entry" | $SUDO tee "$(backports_file)" >/dev/null || echo "setup.sh: could not write $(backports_file)" >&2
          APT_UPDATED=0
        fi
      fi
      # Upgrades Debian's Catch2 v2 too, when that is what is installed.
      apt_install -t bookworm-backports libcatch2-dev || true
    else
      apt_install libcatch2-dev || true
    fi
    catch2_ok || catch2_fail "$(catch2_version)"
  fi
fi

# ---- the virtual environment .venv/ ----
# With --system-site-packages: packages of the interpreter that created it stay
# importable below the venv's own. On a GPU machine that is how the CUDA build of
# PyTorch installed there (the benchmark's reference in scripts/gpu_check.sh,
# tests/data/make_torch_fixtures.py) is seen without copying gigabytes into
# .venv/ or matching its CUDA version by hand, and a machine whose
# interpreter already has every package below gets a working .venv/ without
# network access. What pip installs here goes into .venv/ and comes first on
# sys.path; nothing is ever installed into the system Python (which Debian
# forbids anyway: PEP 668).
PY_PACKAGES=(pybind11 numpy pytest scikit-build-core safetensors hypothesis matplotlib)
PY_MODULES="pybind11 numpy pytest scikit_build_core safetensors hypothesis matplotlib"
missing_modules() {  # missing_modules PYTHON: prints the modules of PY_MODULES it cannot import
  "$1" - "$PY_MODULES" <<'PYEOF'
import importlib.util, sys
print(" ".join(m for m in sys.argv[1].split() if importlib.util.find_spec(m) is None))
PYEOF
}
real_base() {  # real_base PYTHON: the real path of the interpreter behind PYTHON (through venvs and shims)
  "$1" -c 'import os, sys; print(os.path.realpath(getattr(sys, "_base_executable", None) or sys.executable))' 2>/dev/null
}
# Installs pythonX.Y-PART from apt for a Debian interpreter; fails with a message otherwise.
apt_python_part() {  # apt_python_part PART WHY
  local ver prefix
  ver="$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
  prefix="$("$PY" -c 'import sys; print(sys.base_prefix)')"
  if [ "$prefix" = /usr ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup.sh: $PY lacks $2: installing python$ver-$1 (apt)"
    apt_install "python$ver-$1"
  else
    echo "setup.sh: $PY ($prefix) lacks $2, and it is not Debian's Python, so apt cannot add it." >&2
    echo "Use an interpreter that has it, e.g. PYTHON=/usr/bin/python3 bash scripts/setup.sh" >&2
    exit 1
  fi
}

if ! command -v "$PY" >/dev/null 2>&1; then
  if [ -n "${PYTHON:-}" ]; then echo "setup.sh: PYTHON=$PYTHON: no such interpreter" >&2; exit 1; fi
  apt_install python3
fi
venv_ok=0
if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c '' 2>/dev/null; then
  venv_ok=1
  # PYTHON names the interpreter of .venv/: one made by another is remade.
  if [ -n "${PYTHON:-}" ] && [ "$(real_base "$VENV/bin/python")" != "$(real_base "$PY")" ]; then
    echo "setup.sh: .venv/ was made by $(real_base "$VENV/bin/python"), not $(real_base "$PY"): recreating it"
    echo "setup.sh: build folders configured before keep the old Python's paths in their cache: rm build*/CMakeCache.txt"
    venv_ok=0
  fi
fi
if [ "$venv_ok" = 0 ]; then
  "$PY" -c 'import venv' 2>/dev/null || apt_python_part venv "the venv module"
  without_pip=()
  if ! "$PY" -c 'import ensurepip' 2>/dev/null; then
    # Debian's python3 has venv but not ensurepip without python3-venv. No pip
    # is fine when the interpreter already has every package.
    if [ -z "$(missing_modules "$PY")" ]; then without_pip=(--without-pip); else apt_python_part venv "ensurepip"; fi
  fi
  rm -rf "$VENV"
  "$PY" -m venv --system-site-packages ${without_pip[@]+"${without_pip[@]}"} "$VENV"
  echo "setup.sh: created .venv/ ($("$VENV/bin/python" -c 'import sys; print(sys.version.split()[0])'), from $(real_base "$PY"))"
fi
# Python.h, for the extension (find_package(Python ... Development.Module)).
if ! "$VENV/bin/python" -c 'import os, sys, sysconfig; sys.exit(0 if os.path.isfile(os.path.join(sysconfig.get_paths()["include"], "Python.h")) else 1)'; then
  PY="$VENV/bin/python" apt_python_part dev "Python.h (its development headers)"
fi
missing="$(missing_modules "$VENV/bin/python")"
if [ -n "$missing" ]; then
  echo "setup.sh: installing into .venv/: ${PY_PACKAGES[*]} (missing: $missing)"
  "$VENV/bin/python" -m pip --version >/dev/null 2>&1 || "$VENV/bin/python" -m ensurepip -q
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check "${PY_PACKAGES[@]}"
  missing="$(missing_modules "$VENV/bin/python")"
  [ -z "$missing" ] || { echo "setup.sh: still missing in .venv/ after pip: $missing" >&2; exit 1; }
fi
