#!/usr/bin/env bash
# Installs what is missing, checks formatting, builds with warnings as errors,
# runs the whole test suite, builds and checks the Debian package
# (scripts/check-package.sh), then the sanitizer and fuzzing pass
# (scripts/test-sanitized.sh: ASan + UBSan, libFuzzer targets).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/check-format.sh
CMAKE_ARGS="-DGB_WERROR=ON ${CMAKE_ARGS:-}" scripts/build.sh
(cd "${BUILD_DIR:-build}" && ctest --output-on-failure -j "$(nproc)" --timeout 1800)
scripts/check-package.sh
scripts/test-sanitized.sh
