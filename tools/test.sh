#!/usr/bin/env bash
# Quick start, command 2: set up, build (Debug, warnings are errors) and run
# every test. Exits non-zero on any failure.
#   PALM_BUILD_DIR  build directory (default build/debug)
#   PALM_CMAKE_ARGS extra CMake arguments (the sanitizer pass uses this)
set -euo pipefail
cd "$(dirname "$0")/.."

tools/setup.sh
build=${PALM_BUILD_DIR:-build/debug}
# shellcheck disable=SC2086
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DPALM_WERROR=ON ${PALM_CMAKE_ARGS:-} >/dev/null
ninja -C "$build"
cd "$build"
ctest --output-on-failure --parallel "$(nproc)" --timeout 900
