#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# The whole test suite: installs what is missing, builds with warnings as errors, runs the
# unit and integration tests through ctest (the integration tests start and stop the sandbox
# of real servers themselves), does the same with AddressSanitizer and UBSan, and gives every
# libFuzzer target a short run. Ends with one line adding up all three ctest runs.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh

jobs=$(nproc)
passed=0
failed=0

# Runs ctest in a build folder and adds its counts to the totals; stops at the first failure.
run_ctest()
{
    local log
    log=$(mktemp)
    local status=0
    ctest --test-dir "$1" --output-on-failure | tee "$log" || status=$?
    local summary
    summary=$(grep -E 'tests passed, [0-9]+ tests failed out of [0-9]+' "$log" || true)
    rm -f "$log"
    local total failures
    total=$(sed -E 's/.* out of ([0-9]+).*/\1/' <<<"$summary")
    failures=$(sed -E 's/.* ([0-9]+) tests failed.*/\1/' <<<"$summary")
    passed=$((passed + ${total:-0} - ${failures:-0}))
    failed=$((failed + ${failures:-0}))
    if [ "$status" -ne 0 ]; then
        echo "$passed passed, $((failed > 0 ? failed : 1)) failed"
        exit "$status"
    fi
}

cmake -S . -B build -DMAILMON_WERROR=ON >/dev/null
cmake --build build -j"$jobs"
run_ctest build

cmake -S . -B build-asan -DMAILMON_WERROR=ON -DMAILMON_SANITIZE=ON >/dev/null
cmake --build build-asan -j"$jobs"
run_ctest build-asan

cmake -S . -B build-fuzz -DCMAKE_CXX_COMPILER=clang++-14 -DMAILMON_FUZZ=ON -DMAILMON_TESTS=OFF \
    >/dev/null
cmake --build build-fuzz -j"$jobs"
run_ctest build-fuzz

echo "$passed passed, $failed failed"
