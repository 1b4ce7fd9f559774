#!/usr/bin/env bash
# Fails, naming the files, when a C++ file drifts from .clang-format.
# Fix with: git ls-files '*.cc' '*.h' | xargs clang-format -i
set -euo pipefail
cd "$(dirname "$0")/.."
cf="$(command -v clang-format || command -v clang-format-14)"
if ! git ls-files '*.cc' '*.h' | xargs "$cf" --dry-run --Werror 2>/tmp/gb-format.$$; then
  grep -o '^[^:]*\.\(cc\|h\)' /tmp/gb-format.$$ | sort -u | sed 's/^/not clang-formatted: /' >&2
  rm -f /tmp/gb-format.$$
  echo "run: git ls-files '*.cc' '*.h' | xargs clang-format -i" >&2
  exit 1
fi
rm -f /tmp/gb-format.$$
echo "clang-format: every C++ file is formatted"
