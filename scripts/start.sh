#!/usr/bin/env bash
# One command from a fresh clone to the RetroML web app on http://127.0.0.1:8000 (SQLite store in ./outputs).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
. .venv/bin/activate
scripts/build_frontend.sh
exec retroml ui "$@"
