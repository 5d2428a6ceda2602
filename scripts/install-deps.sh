#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Installs every Debian 12 package the build, the tests, the sandbox and the scheduler tests
# need, unpacks Exim for the sandbox, and generates the locale the perfdata test uses. Safe to
# run twice; configures and starts no system daemon.
set -euo pipefail

((EUID == 0)) || { echo "install-deps: needs root (apt-get)" >&2; exit 1; }

build=(build-essential cmake pkg-config libssl-dev libc-ares-dev libboost-program-options-dev
    doctest-dev clang-14 libclang-rt-14-dev libfuzzer-14-dev locales)
sandbox=(postfix unbound nsd rbldnsd ldnsutils bind9-dnsutils openssl iproute2 procps
    coreutils diffutils libidn12)
schedulers=(icinga2-bin icinga2-common nagios4-core socat curl jq)

# Only what is missing: naming an installed package would also upgrade it.
missing=()
for package in "${build[@]}" "${sandbox[@]}" "${schedulers[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' \
        || missing+=("$package")
done

if ((${#missing[@]} > 0)); then
    # Postfix only as an unconfigured package: the sandbox runs private instances of it.
    echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
    export DEBIAN_FRONTEND=noninteractive
    if [[ ! -e /usr/sbin/policy-rc.d ]]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod +x /usr/sbin/policy-rc.d
        trap 'rm -f /usr/sbin/policy-rc.d' EXIT
    fi
    # postfix stays in the transaction so that apt resolves nagios4-core's mail transport
    # agent to it rather than to exim4.
    if ! apt-get install -y -qq --no-install-recommends postfix "${missing[@]}"; then
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends postfix "${missing[@]}"
    fi
fi

# Exim, the sandbox's second real MTA, conflicts with postfix as a package: it is unpacked,
# not installed, into MAILMON_EXIM_ROOT (sandbox.sh runs it from there with -C), and gets the
# system user its binary was built for. libidn12 above is the one library it lacks.
exim_root=${MAILMON_EXIM_ROOT:-/opt/mailmon-sandbox/exim}
if [[ ! -x $exim_root/usr/sbin/exim4 ]]; then
    download=$(mktemp -d)
    (cd "$download" && apt-get download exim4-daemon-light exim4-base exim4-config)
    mkdir -p "$exim_root"
    for deb in "$download"/*.deb; do
        dpkg -x "$deb" "$exim_root"
    done
    rm -rf "$download"
fi
id Debian-exim >/dev/null 2>&1 || useradd --system --user-group --no-create-home \
    --home-dir /nonexistent --shell /usr/sbin/nologin Debian-exim

# The perfdata locale test formats numbers under a comma-decimal locale.
if ! locale -a 2>/dev/null | grep -qi '^de_DE\.utf-\?8$'; then
    sed -i 's/^# *\(de_DE.UTF-8 UTF-8\)/\1/' /etc/locale.gen
    grep -q '^de_DE.UTF-8 UTF-8' /etc/locale.gen || echo 'de_DE.UTF-8 UTF-8' >> /etc/locale.gen
    locale-gen >/dev/null
fi
