#!/usr/bin/env bash
# Builds the React app into src/retroml/web/static (served by `retroml ui`), if the frontend exists.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f frontend/package.json ] || exit 0
cd frontend
# Installed again when the lock file changed since (a new devDependency such as openapi-typescript).
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund || npm install --no-audit --no-fund
fi
npm run build
