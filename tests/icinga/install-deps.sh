#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Installs the Debian 12 packages of the scheduler tests: Icinga 2 and Nagios 4 (run from
# private prefixes, never as system services), socat for the namespace bridges and the HTTP
# sink, curl and jq for the REST API. nagios4-core needs a mail transport agent through
# bsd-mailx: postfix is named in the same transaction (preseeded to "No configuration", as the
# sandbox does), so apt never picks exim4, whose package would remove postfix. A policy-rc.d
# kept only for the install stops Debian from starting icinga2 or nagios4.
set -euo pipefail

((EUID == 0)) || { echo "install-deps: needs root (apt-get)" >&2; exit 1; }

packages=(postfix icinga2-bin icinga2-common nagios4-core socat curl jq iproute2 openssl)

# Only what is missing: naming an installed package would also upgrade it.
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' \
        || missing+=("$package")
done
((${#missing[@]} > 0)) || exit 0

echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
export DEBIAN_FRONTEND=noninteractive
if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
# postfix stays in the list while anything is missing, so that apt resolves nagios4-core's
# mail transport agent to it.
if ! apt-get install -y --no-install-recommends postfix "${missing[@]}"; then
    apt-get update
    apt-get install -y --no-install-recommends postfix "${missing[@]}"
fi
