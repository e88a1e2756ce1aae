#!/usr/bin/env bash
# The README's test command: installs dependencies, configures the "ci" preset, builds everything and
# runs the whole suite through ctest. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
bash installer/deps/debian.sh
cmake --preset ci
cmake --build --preset ci
# The official `openai` npm client, used by tests/server to drive `bonsai-cli serve` (npm's registry is
# reachable; the app itself never downloads anything at run time).
mkdir -p build/ci/npm
if [ ! -d build/ci/npm/node_modules/openai ]; then
  (cd build/ci/npm && npm install --no-audit --no-fund --loglevel=error openai@4 >/dev/null) ||
    echo "run-tests.sh: warning: npm install openai failed; test_openai_npm_client will fail" >&2
fi
ctest --preset ci
# The trainer's Python tests (Debian's torch lives under /usr/bin/python3 only).
if [ -d training/tests ]; then
  OMP_NUM_THREADS=1 BONSAI_CLI="$PWD/build/ci/app/cli/bonsai-cli" /usr/bin/python3 -m pytest -q -p no:cacheprovider training/tests
fi
