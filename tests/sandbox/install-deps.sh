#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Installs the Debian 12 packages the sandbox runs (tests/sandbox/sandbox.sh). Postfix is
# preseeded to "No configuration", so no system mail server is configured; a policy-rc.d kept
# only for the install stops Debian from starting the system Unbound, NSD and rbldnsd, which
# could hold port 53 on every address. Safe to run again: apt-get skips what is installed.
set -euo pipefail

((EUID == 0)) || { echo "install-deps: needs root (apt-get)" >&2; exit 1; }

packages=(postfix unbound nsd rbldnsd ldnsutils bind9-dnsutils openssl iproute2 procps
    coreutils diffutils)

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
