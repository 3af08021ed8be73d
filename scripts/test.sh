#!/usr/bin/env bash
# One command from a fresh clone to the whole test suite: installs everything, lints, type-checks, tests.
set -euo pipefail
cd "$(dirname "$0")/.."
RETROML_SYSTEM_PACKAGES="scripts/system_packages.txt scripts/system_packages_test.txt" RETROML_EXTRAS=dev,cluster scripts/setup.sh
. .venv/bin/activate
scripts/build_frontend.sh
# The TypeScript types of the API are generated from its schema: fail while the committed ones differ.
scripts/gen_api_types.sh --check
(cd frontend && npm test)
ruff check src tests benchmarks
mypy
python -m pytest -q --durations=25 "$@"
