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

# check_dnsbl on the sandbox's rbldnsd zones: a clean and a listed address on 50 zones, a
# mail domain and its MX, and the zones that must never page: an error code, a dead list.
demo_dnsbl()
{
    plugin_built check_dnsbl || return 0
    local dnsbl=(build/plugins/check_dnsbl --dns-server "$MAILMON_DNS" --no-default-zones)
    local zones=$MAILMON_SANDBOX_DIR/demo-zones.conf i
    for i in $(seq -w 1 50); do
        echo "ip zone$i.bl.test"
    done >"$zones"
    echo "domain dbl.bl.test" >>"$zones"
    show "${dnsbl[@]}" --zones-file "$zones" -H 127.0.0.9
    show "${dnsbl[@]}" --zones-file "$zones" -H 127.0.0.11 -w 1 -c 3
    show "${dnsbl[@]}" --zones-file "$zones" --domain good.mailmon.test
    show "${dnsbl[@]}" --zone zone01.bl.test --zone error.bl.test --zone dead.bl.test -H 127.0.0.9
}

# check_mx: a healthy domain with three MX, one MX down, all down, a null MX, and a zone
# whose DNSSEC is broken (SERVFAIL).
demo_mx()
{
    plugin_built check_mx || return 0
    local mx=(build/plugins/check_mx --dns-server "$MAILMON_DNS" -t 5)
    show "${mx[@]}" -H good.mailmon.test
    show "${mx[@]}" -H onedown.mailmon.test
    show "${mx[@]}" -H alldown.mailmon.test
    show "${mx[@]}" -H nullmx.mailmon.test
    show "${mx[@]}" -H bogus.test
}

# check_smtp_tls: three ports at once, trusted and then against the system store (the sandbox
# CA is unknown there), implicit TLS expected on a STARTTLS port, and DANE in a signed zone.
demo_smtp_tls()
{
    plugin_built check_smtp_tls || return 0
    local smtp=(build/plugins/check_smtp_tls --dns-server "$MAILMON_DNS" -t 5)
    show "${smtp[@]}" -H mx1.mailmon.test -p 25,465,587 --ca-file "$MAILMON_CA_FILE"
    show "${smtp[@]}" -H mx1.mailmon.test -p 25,465,587
    show "${smtp[@]}" -H mx1.mailmon.test -4 -p 25 --mode 25:tls --ca-file "$MAILMON_CA_FILE"
    show "${smtp[@]}" -H mx1.signed.test -p 25 --dane --ca-file "$MAILMON_CA_FILE"
}

# check_mail_cert: valid on three ports, expiring soon, expired, a missing intermediate, two
# nodes of one name serving different certificates, and a validated TLSA that matches nothing.
demo_mail_cert()
{
    plugin_built check_mail_cert || return 0
    local cert=(build/plugins/check_mail_cert --dns-server "$MAILMON_DNS" -t 5
        --ca-file "$MAILMON_CA_FILE")
    show "${cert[@]}" -H mx1.mailmon.test -p 25,465,587
    show "${cert[@]}" -H expiring.mailmon.test
    show "${cert[@]}" -H expired.mailmon.test
    show "${cert[@]}" -H nochain.mailmon.test
    show "${cert[@]}" -H fleet.mailmon.test
    show "${cert[@]}" -H nomatch.signed.test
}

demo_cases()
{
    demo_mx
    demo_smtp_tls
    demo_mail_cert
    demo_dnsbl
}

demo_cases
