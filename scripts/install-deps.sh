#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Installs every Debian 12 package the build, the tests, the sandbox and the benchmarks need.
# Safe to run twice; configures and starts no system daemon.
set -euo pipefail

packages=(
    build-essential cmake pkg-config libssl-dev libc-ares-dev libboost-program-options-dev
    doctest-dev clang-14 libclang-rt-14-dev libfuzzer-14-dev locales
)

missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' \
        || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The perfdata locale test formats numbers under a comma-decimal locale.
if ! locale -a 2>/dev/null | grep -qi '^de_DE\.utf-\?8$'; then
    sed -i 's/^# *\(de_DE.UTF-8 UTF-8\)/\1/' /etc/locale.gen
    grep -q '^de_DE.UTF-8 UTF-8' /etc/locale.gen || echo 'de_DE.UTF-8 UTF-8' >> /etc/locale.gen
    locale-gen >/dev/null
fi

"$(dirname "$0")/../tests/sandbox/install-deps.sh"
"$(dirname "$0")/../tests/icinga/install-deps.sh"
