#!/usr/bin/env bash
# Installs what RetroML needs into ./.venv (idempotent). Sourced by start.sh and test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
# Debian packages, only those missing: what running needs (system_packages.txt); test.sh adds the
# test-only list through RETROML_SYSTEM_PACKAGES.
wanted=$(cat ${RETROML_SYSTEM_PACKAGES:-scripts/system_packages.txt} | grep -vE '^\s*(#|$)' || true)
missing=""
for package in $wanted; do
  dpkg -s "$package" >/dev/null 2>&1 || missing="$missing $package"
done
if [ -n "$missing" ] && command -v apt-get >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
fi

PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
. .venv/bin/activate
python -m pip install --quiet --upgrade pip

# PyTorch first, the build chosen here: asked for by another package, pip would take PyPI's, which on
# Linux is a multi-GB CUDA build even where there is no GPU. The CUDA build where an NVIDIA driver
# reports a GPU, the CPU build elsewhere; RETROML_TORCH=cpu|cuda forces one. RETROML_TORCH_CUDA names
# the CUDA variant of PyTorch's wheel index (https://download.pytorch.org/whl/<variant>).
TORCH_VERSION=2.13.0
TORCH_CUDA=${RETROML_TORCH_CUDA:-cu126}
torch_build() {
  case "${RETROML_TORCH:-auto}" in
    cpu | cuda) echo "$RETROML_TORCH asked for with RETROML_TORCH=$RETROML_TORCH" ;;
    auto)
      local gpu
      gpu=$(nvidia-smi -L 2>/dev/null | grep -m1 '^GPU ' || true)
      if [ -n "$gpu" ]; then
        echo "cuda nvidia-smi reports ${gpu%% (UUID*}"
      else
        echo "cpu no NVIDIA GPU reported by nvidia-smi"
      fi
      ;;
    *)
      echo "setup: RETROML_TORCH must be cpu, cuda or unset (auto), not '$RETROML_TORCH'" >&2
      return 1
      ;;
  esac
}
choice=$(torch_build) # an assignment, so that a refused RETROML_TORCH stops the setup
read -r build reason <<<"$choice"
if [ "$build" = cuda ]; then
  echo "setup: PyTorch $TORCH_VERSION, CUDA build ($TORCH_CUDA): $reason; RETROML_TORCH=cpu forces the CPU build"
  python -m pip install --quiet "torch==$TORCH_VERSION+$TORCH_CUDA" \
    --extra-index-url "https://download.pytorch.org/whl/$TORCH_CUDA"
elif [ "$(uname -s)" = Darwin ]; then
  echo "setup: PyTorch $TORCH_VERSION for macOS (CPU and Apple GPU; no CUDA there)"
  python -m pip install --quiet "torch==$TORCH_VERSION"
else
  echo "setup: PyTorch $TORCH_VERSION, CPU build: $reason; RETROML_TORCH=cuda forces the CUDA build"
  # A CPU build that lies on this machine's disk (pip's find-links) or is installed needs no download.
  python -m pip install --quiet "torch==$TORCH_VERSION+cpu" 2>/dev/null ||
    python -m pip install --quiet "torch==$TORCH_VERSION+cpu" --extra-index-url https://download.pytorch.org/whl/cpu
fi
# RETROML_EXTRAS picks the optional parts (default dev: the test tooling); the tests also need the
# cluster extra (Ray); start.sh sets it empty, since running the app needs none of them.
extras=${RETROML_EXTRAS-dev}
python -m pip install --quiet -e ".${extras:+[$extras]}"
