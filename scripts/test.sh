#!/usr/bin/env bash
# One command from a fresh clone to the whole test suite: installs everything, lints, type-checks, tests.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ "${1:-}" == "--fast" ]]; then
    # The inner loop (well under a minute, nothing installed): lint and the pure-logic tests.
    # Needs a venv set up once by this script or scripts/setup.sh; the whole suite is for CI.
    shift
    . .venv/bin/activate
    ruff check src tests benchmarks
    ruff format --check src tests benchmarks
    exec python -m pytest -q tests/unit "$@"
fi
RETROML_SYSTEM_PACKAGES="scripts/system_packages.txt scripts/system_packages_test.txt" RETROML_EXTRAS=dev,cluster scripts/setup.sh
. .venv/bin/activate
scripts/build_frontend.sh
# The TypeScript types of the API are generated from its schema: fail while the committed ones differ.
scripts/gen_api_types.sh --check
(cd frontend && npm test)
# The web app's formatting (Prettier) and lint (ESLint), as `npm run format` and the rules leave them.
(cd frontend && npm run format:check && npm run lint)
ruff check src tests benchmarks
ruff format --check src tests benchmarks
mypy
python -m pytest -q --durations=25 "$@"
