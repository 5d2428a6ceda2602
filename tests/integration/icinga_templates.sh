#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# The Icinga templates load into a real Icinga 2 (daemon -C and a running daemon), a mail host
# gets the services the documentation promises, and every CheckCommand offers exactly the
# options of its plugin's --help with the same descriptions and a timeout above the plugin's.
# Needs no sandbox. MAILMON_PLUGIN_BIN is the build's plugins/ folder.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
plugin_dir=${MAILMON_PLUGIN_BIN:?set MAILMON_PLUGIN_BIN to the build plugins folder}
# shellcheck source=tests/integration/lib.sh
source "$here/lib.sh"
# shellcheck source=tests/icinga/icinga.sh
source "$repo/tests/icinga/icinga.sh"
check icinga_templates

work=$(mktemp -d /tmp/mailmon-icinga-templates.XXXXXX)
trap 'icinga_stop "$work/node"; rm -rf "$work"' EXIT

icinga_ca "$work/ca"
icinga_node "$work/node" localhost "$(icinga_free_port)" "$work/ca" "$plugin_dir"
echo "include \"$repo/icinga-templates/mailmon.conf\"" \
    >"$work/node/etc/zones.d/global-templates/mailmon.conf"
cat >"$work/node/etc/objects.conf" <<'CONF'
object Endpoint NodeName { }
object Zone "master" { endpoints = [ NodeName ] }
object Endpoint "sat-eu" { }
object Zone "eu" { parent = "master"; endpoints = [ "sat-eu" ] }
object Endpoint "sat-ru" { }
object Zone "ru" { parent = "master"; endpoints = [ "sat-ru" ] }
CONF
mkdir -p "$work/node/etc/zones.d/master"
cat >"$work/node/etc/zones.d/master/hosts.conf" <<'CONF'
object Host "mx1.example.test" {
    import "mailmon-mail-host"
    address = "127.25.0.1"
    check_command = "dummy"
    vars.mail_domain = "example.test"
    vars.smtp_ports = [ 25, 465, 587 ]
}
object Host "mx2.example.test" {
    import "mailmon-mail-host"
    address = "127.25.0.2"
    check_command = "dummy"
    vars.mail_domain = "example.test"
    vars.mail_dnsbl = false
    vars.mail_regions = { "eu" = "sat-eu", "ru" = "sat-ru" }
}
object Host "web.example.test" { address = "127.0.0.80"; check_command = "dummy" }
CONF

if icinga_validate "$work/node"; then
    expect_equal "icinga2 daemon -C accepts the templates" 0 0
else
    cat "$work/node/validate.out"
    expect_equal "icinga2 daemon -C accepts the templates" 0 1
    finish
fi
icinga_start "$work/node"

# The examples shipped beside the templates validate together on a master of their own.
examples=$repo/icinga-templates/examples
icinga_node "$work/examples" master1.example.org "$(icinga_free_port)" "$work/ca" "$plugin_dir"
sed -i '/^object Zone "global-templates"/d' "$work/examples/etc/icinga2.conf"
{
    cat "$examples/zones.conf.example"
    echo 'template Host "generic-host" { check_command = "dummy" }'
    echo 'const MailmonWebhook = "http://127.0.0.1:9/hook"'
    echo 'const MailmonSlackWebhook = "http://127.0.0.1:9/slack"'
    echo 'const MailmonTelegramToken = "1:x"'
} >"$work/examples/etc/objects.conf"
mkdir -p "$work/examples/etc/zones.d/master"
cp "$examples/mail-host.conf.example" "$work/examples/etc/zones.d/master/host.conf"
cp "$examples/notifications.conf.example" "$work/examples/etc/zones.d/master/notify.conf"
echo "include \"$repo/icinga-templates/mailmon.conf\"" \
    >"$work/examples/etc/zones.d/global-templates/mailmon.conf"
if icinga_validate "$work/examples"; then
    expect_match "the examples validate and make the documented services" \
        'Instantiated 14 Services' "$(cat "$work/examples/validate.out")"
else
    fail_once "the examples validate" "" "$(grep -A4 critical "$work/examples/validate.out")"
fi

services()
{
    icinga_api "$work/node" GET "/v1/objects/services?filter=host.name==%22$1%22&attrs=name" |
        jq -r '[.results[].attrs.name] | sort | join(" ")'
}
expect_equal "a mail host gets MX, SMTP TLS per port, certificate and blocklist checks" \
    "dnsbl mail_cert mx smtp_tls-25 smtp_tls-465 smtp_tls-587" "$(services mx1.example.test)"
expect_equal "a host with regions also gets the regional copies" \
    "mail_cert mx mx@eu mx@ru smtp_tls-25 smtp_tls-25@eu smtp_tls-25@ru" \
    "$(services mx2.example.test)"
expect_equal "a host without mail variables gets nothing" "" "$(services web.example.test)"

attrs=$(icinga_service_attrs "$work/node" mx2.example.test 'smtp_tls-25@ru' \
    command_endpoint zone check_command check_interval vars)
expect_equal "a regional check runs on its region's satellite" \
    "$(jq -cn '{command_endpoint: "sat-ru", zone: "master", check_command: "smtp_tls",
        check_interval: 60, port: 25, region: "ru"}')" \
    "$(jq -c '{command_endpoint, zone, check_command, check_interval,
        port: .vars.smtp_tls_port, region: .vars.mail_region}' <<<"$attrs")"
expect_equal "the plain service of a host with regions is the aggregate" "dummy" \
    "$(icinga_service_attrs "$work/node" mx2.example.test smtp_tls-25 check_command |
        jq -r .check_command)"
expect_equal "the MX check runs every minute" 60 \
    "$(icinga_service_attrs "$work/node" mx1.example.test mx check_interval |
        jq -r .check_interval)"

# Every plugin that is built: options and descriptions as in its --help, timeout above -t.
declare -A commands=([check_mx]=mx [check_smtp_tls]=smtp_tls [check_mail_cert]=mail_cert
    [check_dnsbl]=dnsbl)
checked=0
for plugin in "${!commands[@]}"; do
    command=${commands[$plugin]}
    if [[ ! -x $plugin_dir/$plugin ]]; then
        echo "note - $plugin is not built; its CheckCommand '$command' is not compared"
        continue
    fi
    checked=$((checked + 1))
    help=$("$repo/tests/icinga/help-options.sh" "$plugin_dir/$plugin")
    arguments=$(icinga_eval "$work/node" "var r = {}
        for (k => v in get_object(CheckCommand, \"$command\").arguments) { r[k] = v.description }
        r")
    expect_equal "CheckCommand $command has every option of $plugin --help" \
        "$(jq -c 'keys' <<<"$help")" "$(jq -c 'keys' <<<"$arguments")"
    expect_equal "CheckCommand $command describes its options as $plugin --help does" "" \
        "$(jq -rn --argjson h "$help" --argjson a "$arguments" '$h | to_entries[]
            | select($a[.key] != null and $a[.key] != .value)
            | "\n  \(.key): help says \(.value | @json)"
              + "\n  \(" " * (.key | length))  command says \($a[.key] | @json)"')"
    timeouts=$(icinga_eval "$work/node" "var c = get_object(CheckCommand, \"$command\")
        [ c.timeout, c.vars.${command}_timeout ]")
    expect_match "CheckCommand $command outlives the plugin's -t" '^\[[0-9]+,[0-9]+\]$' \
        "$timeouts"
    expect_equal "CheckCommand $command timeout is above the plugin's -t" true \
        "$(jq '.[0] > .[1]' <<<"$timeouts")"
done
expect_match "at least one plugin was compared" '^[1-9]' "$checked"

finish
