#!/usr/bin/env bash
# Builds the Linux packages (.deb and .tgz) from a Release build into build/release/packages.
set -euo pipefail
cd "$(dirname "$0")/.."
bash installer/deps/debian.sh
cmake --preset release -DBONSAI_BUILD_TESTS=OFF
cmake --build --preset release
cpack --config build/release/CPackConfig.cmake -B build/release/packages
ls -l build/release/packages/*.deb build/release/packages/*.tar.gz
