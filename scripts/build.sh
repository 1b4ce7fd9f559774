#!/usr/bin/env bash
# Configures and builds glacier-backup into ./build (or $BUILD_DIR).
# Usage: scripts/build.sh [TARGET...]   (no target: everything, tests included)
# Extra CMake options go in $CMAKE_ARGS, e.g. CMAKE_ARGS="-DGB_SANITIZE=ON".
set -euo pipefail
cd "$(dirname "$0")/.."
build="${BUILD_DIR:-build}"
# shellcheck disable=SC2086
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}" ${CMAKE_ARGS:-} >/dev/null
ninja -C "$build" "$@"
