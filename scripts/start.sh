#!/usr/bin/env bash
# One command from a fresh clone to the RetroML web app on http://127.0.0.1:8000 (SQLite store in ./outputs).
# Installs only what running needs (scripts/system_packages.txt, no test tooling); scripts/test.sh adds
# what the tests need. Arguments go to `retroml ui`: scripts/start.sh --port 8080, --host 0.0.0.0 …
set -euo pipefail
cd "$(dirname "$0")/.."
RETROML_EXTRAS="" scripts/setup.sh
. .venv/bin/activate
scripts/build_frontend.sh
exec retroml ui "$@"
