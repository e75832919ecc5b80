#!/usr/bin/env bash
# The fuzz smoke: builds the libFuzzer targets of fuzz/ with clang (ASan +
# UBSan + libFuzzer), writes their seed corpora (fuzz_seeds), and runs each
# target for PALM_FUZZ_SECONDS (default 20) seconds. Exits non-zero on any
# crash, leak, timeout or sanitizer report; the input that did it is kept
# in the build directory (crash-*, leak-*, timeout-*).
#   PALM_FUZZ_SECONDS   time per target
#   PALM_FUZZ_TARGETS   space-separated subset of the targets
#   PALM_BUILD_DIR      build directory (default build/fuzz). A directory
#                       already configured with PALM_FUZZ=ON (as .ci/run's
#                       sanitizer pass leaves build/asan) is reused as it is.
set -euo pipefail
cd "$(dirname "$0")/.."

tools/setup.sh
build=${PALM_BUILD_DIR:-build/fuzz}
seconds=${PALM_FUZZ_SECONDS:-20}
targets=${PALM_FUZZ_TARGETS:-fuzz_push fuzz_cursor fuzz_session_token fuzz_catalog_json fuzz_c_api_json fuzz_evidence}
if ! grep -qs '^PALM_FUZZ:BOOL=ON' "$build/CMakeCache.txt"; then
  # shellcheck disable=SC2086
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang \
    -DCMAKE_CXX_COMPILER=clang++ -DPALM_FUZZ=ON -DPALM_BUILD_TESTS=OFF -DPALM_BUILD_TOOLS=OFF \
    ${PALM_CMAKE_ARGS:-} >/dev/null
fi
# shellcheck disable=SC2086
ninja -C "$build" fuzz_seeds $targets

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$build/fuzz/fuzz_seeds" "$work/seeds" >/dev/null
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:symbolize=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
status=0
for target in $targets; do
  mkdir -p "$work/corpus/$target"
  echo "== $target (${seconds}s)"
  if ! (cd "$build" && "fuzz/$target" -max_total_time="$seconds" -timeout=30 -rss_limit_mb=4096 \
        -print_final_stats=1 "$work/corpus/$target" "$work/seeds/$target" \
        >"$work/$target.log" 2>&1); then
    tail -n 60 "$work/$target.log" >&2
    echo "fuzz: $target found a problem (input kept in $build/)" >&2
    status=1
    continue
  fi
  grep -E "^stat::number_of_executed_units|^stat::peak_rss_mb" "$work/$target.log" | tr '\n' ' '
  echo
done
exit $status
