#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Installs the Debian 12 packages the sandbox runs (tests/sandbox/sandbox.sh). Postfix is
# preseeded to "No configuration", so no system mail server is configured; a policy-rc.d kept
# only for the install stops Debian from starting the system Unbound, NSD and rbldnsd, which
# could hold port 53 on every address. Safe to run again: apt-get skips what is installed.
set -euo pipefail

((EUID == 0)) || { echo "install-deps: needs root (apt-get)" >&2; exit 1; }

packages=(postfix unbound nsd rbldnsd ldnsutils bind9-dnsutils openssl iproute2 procps
    coreutils diffutils libidn12)

echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
export DEBIAN_FRONTEND=noninteractive
if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
if ! apt-get install -y --no-install-recommends "${packages[@]}"; then
    apt-get update
    apt-get install -y --no-install-recommends "${packages[@]}"
fi

# Exim, the second real MTA, conflicts with postfix as a package: it is unpacked, not
# installed, into MAILMON_EXIM_ROOT (sandbox.sh runs it from there with -C), and gets the
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
