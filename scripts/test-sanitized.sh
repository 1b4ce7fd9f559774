#!/usr/bin/env bash
# Builds everything with clang, AddressSanitizer and UBSan into ./build-sanitize
# (or $SANITIZE_BUILD_DIR), runs every libFuzzer target for $FUZZ_SECONDS
# (default 20) from its seed corpus, then runs the unit tests and the
# end-to-end tests of the binary that feed it hostile or damaged input, or
# make it fail part way (forged vaults and archives, signatures, restores of
# damaged sets, deltas, injected faults): the rest of the end-to-end suite
# passes under the sanitizers too, but costs more CI time than it finds
# (set SANITIZE_E2E=all to run it). Any sanitizer finding fails the run.
#
# A crash found by a fuzzer is saved as tests/fuzz/regressions/TARGET/crash-*:
# commit it with the fix; every test run replays it from then on.
set -euo pipefail
cd "$(dirname "$0")/.."
build="${SANITIZE_BUILD_DIR:-build-sanitize}"
seconds="${FUZZ_SECONDS:-20}"
CC=clang CXX=clang++ cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DGB_SANITIZE=ON -DGB_FUZZ=ON -DGB_E2E_TESTS=ON >/dev/null
ninja -C "$build"

export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:strict_string_checks=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
for fuzzer in "$build"/*_fuzz; do
  name="$(basename "$fuzzer")"
  work="$(mktemp -d -t "gb-$name.XXXXXX")"
  saved="tests/fuzz/regressions/$name"
  mkdir -p "$saved"
  echo "fuzzing $name for ${seconds}s"
  if ! "$fuzzer" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=2048 \
      -artifact_prefix="$saved/" -print_final_stats=0 \
      "$work" "tests/fuzz/corpus/$name" "$saved" >"$work.log" 2>&1; then
    tail -n 40 "$work.log" >&2
    echo "$name: a fuzzer finding was saved in $saved/ (replay: $fuzzer $saved/crash-...)" >&2
    exit 1
  fi
  rmdir "$saved" 2>/dev/null || true
  rm -rf "$work" "$work.log"
done

cd "$build"
e2e='Hostile|Forged|Signature|Restore|Damage|StockTools|Delta|Fault|Recover'
[ "${SANITIZE_E2E:-}" != all ] || e2e='.'
ctest --output-on-failure -j "$(nproc)" --timeout 1800 -LE e2e
ctest --output-on-failure -j "$(nproc)" --timeout 1800 -L e2e -R "$e2e"
