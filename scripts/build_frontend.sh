#!/usr/bin/env bash
# Builds the React app into src/retroml/web/static (served by `retroml ui`), if the frontend exists.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f frontend/package.json ] || exit 0
cd frontend
if [ ! -d node_modules ]; then npm ci --no-audit --no-fund || npm install --no-audit --no-fund; fi
npm run build
