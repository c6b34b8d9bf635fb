#!/usr/bin/env bash
# One command to test: installs what is missing, builds, and runs the whole
# suite (C++ unit and integration tests and the Python tests) through ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
deploy/install-deps.sh
deploy/build.sh
cd "${BUILD_DIR:-build}"
ctest --parallel "$(nproc)" --output-on-failure --timeout 900
