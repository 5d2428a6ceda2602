#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Multi-region checks in a real three-node Icinga 2 cluster: a master on loopback and the
# satellites sat-eu and sat-ru, each in its own network namespace. Both regions reach the
# sandbox resolver; only eu reaches the sandbox MTAs. The regional copies of a check run on
# their satellites (check_source), and the aggregate says "regional problem (routing?) seen
# from ru"; once eu is cut off too, it says CRITICAL. Needs root and the sandbox.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
plugin_dir=${MAILMON_PLUGIN_BIN:?set MAILMON_PLUGIN_BIN to the build plugins folder}
# shellcheck source=tests/integration/lib.sh
source "$here/lib.sh"
# shellcheck source=tests/icinga/icinga.sh
source "$repo/tests/icinga/icinga.sh"
# shellcheck source=tests/icinga/cluster.sh
source "$repo/tests/icinga/cluster.sh"
sandbox_env

work=$(mktemp -d /tmp/mailmon-icinga-regions.XXXXXX)
trap 'cluster_stop "$work"; rm -rf "$work"' EXIT
master=$work/master
mta_ports=(25 465 587)
mta_addresses=("$MAILMON_MX1" "$MAILMON_MX2" "$MAILMON_MX3")

cluster_init "$work" "$plugin_dir" "$repo/icinga-templates/mailmon.conf" eu=sat-eu ru=sat-ru
# The regional checks are IPv4-only: the namespaces carry no IPv6 route to the sandbox.
cat >"$master/etc/zones.d/master/hosts.conf" <<CONF
object Host "mx1.mailmon.test" {
    import "mailmon-mail-host"
    address = "$MAILMON_MX1"
    check_command = "dummy"
    enable_active_checks = false
    vars.mail_domain = "good.mailmon.test"
    vars.smtp_ports = [ 25 ]
    vars.mail_cert = false
    vars.mail_dnsbl = false
    vars.mail_regions = { "eu" = "sat-eu", "ru" = "sat-ru" }
    vars.mx_dns_server = "$MAILMON_DNS"
    vars.mx_ipv4 = true
    vars.smtp_tls_dns_server = "$MAILMON_DNS"
    vars.smtp_tls_ca_file = "$MAILMON_CA_FILE"
    vars.smtp_tls_ipv4 = true
}
CONF

check "cluster"
if cluster_start "$work"; then
    pass "master and both satellites run and are connected"
else
    fail_once "master and both satellites run and are connected" "" \
        "$(tail -n 5 "$work"/*/daemon.out)"
    finish
fi
for endpoint in sat-eu sat-ru; do
    cluster_bridge_udp "$work" "dns-$endpoint" "$(cluster_netns "$work" "$endpoint")" \
        "$MAILMON_DNS" 53
done
eu_netns=$(cluster_netns "$work" sat-eu)
for address in "${mta_addresses[@]}"; do
    for port in "${mta_ports[@]}"; do
        cluster_bridge "$work" "mta-eu" "$eu_netns" "$address" "$port" out
    done
done

# expect_result SERVICE STATE SOURCE [REGEX]: forces the check on the master and asserts the
# state, the node that ran it, and the output.
expect_result()
{
    local service=$1 state=$2 source=$3 regex=${4:-} result
    check "$service"
    result=$(icinga_check "$master" mx1.mailmon.test "$service") || {
        fail_once "a fresh result" "a result" "none within 30 s"
        return
    }
    expect_equal "state $state" "$state" "$(jq -r '.state | floor' <<<"$result")"
    expect_equal "checked from $source" "$source" "$(jq -r .check_source <<<"$result")"
    if [[ -n $regex ]]; then
        expect_match "output" "$regex" "$(jq -r .output <<<"$result")"
    fi
}

checks=(mx)
if [[ -x $plugin_dir/check_smtp_tls ]]; then
    checks+=(smtp_tls-25)
else
    echo "note: check_smtp_tls is not built; only the MX check runs from the regions"
fi

# eu reaches the MTAs, ru does not: a regional problem, named.
for service in "${checks[@]}"; do
    expect_result "$service@eu" 0 sat-eu
    expect_result "$service@ru" 2 sat-ru
    expect_result "$service" 1 master \
        '^regional problem \(routing\?\) seen from ru \(ru: .+\); fine from eu$'
done

# Both regions cut off from the MTAs: the service is down, not a routing problem.
cluster_unbridge "$work" mta-eu
for service in "${checks[@]}"; do
    expect_result "$service@eu" 2 sat-eu
    expect_result "$service" 2 master '^failing from every region \(eu: .+; ru: .+\)$'
done

finish
