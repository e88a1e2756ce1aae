#!/usr/bin/env bash
# The README's app command: installs dependencies, builds Release and starts the desktop app on the
# bundled default model (without a display, bonsai says so and starts `bonsai-cli chat` instead).
set -euo pipefail
cd "$(dirname "$0")/.."
bash installer/deps/debian.sh
cmake --preset release -DBONSAI_BUILD_TESTS=OFF
cmake --build --preset release
exec ./build/release/app/desktop/bonsai "$@"
