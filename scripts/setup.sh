#!/usr/bin/env bash
# Installs what RetroML needs into ./.venv (idempotent). Sourced by start.sh and test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
# Debian packages (Chromium for browser tests, Qt's runtime libraries …), only those missing.
wanted=$(grep -vE '^\s*(#|$)' scripts/system_packages.txt || true)
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
# The CPU build of PyTorch first: asked for by another package, pip would fetch a multi-GB CUDA build.
python -m pip install --quiet "torch==2.13.0"
# RETROML_EXTRAS picks the optional parts: the tests also need the cluster extra (Ray).
python -m pip install --quiet -e ".[${RETROML_EXTRAS:-dev}]"
