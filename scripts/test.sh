#!/usr/bin/env bash
# The test command: set up, then lint, type-check and run the whole suite. Extra arguments go
# to pytest (e.g. scripts/test.sh -k negotiate).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH"

echo "== ruff check" >&2
ruff check src tests examples bench testbed
echo "== ruff format --check" >&2
ruff format --check src tests examples bench testbed
# The example backend of docs/backend-guide.md is held to the same rules as vifbind itself.
echo "== mypy --strict src examples/third_party_backend/src bench testbed" >&2
mypy --strict src examples/third_party_backend/src bench testbed
echo "== pytest" >&2
pytest "$@"
