#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Every plugin through its CheckCommand in a private Icinga 2 against the sandbox: each
# scenario reaches its state over the REST API, Icinga's own perfdata parser accepts every
# perfdata item, a mail host set up only with host variables gets working checks, and the
# API example of docs/icinga.md, run as written, creates a service that reaches OK.
# Needs the sandbox; MAILMON_PLUGIN_BIN is the build's plugins/ folder.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
plugin_dir=${MAILMON_PLUGIN_BIN:?set MAILMON_PLUGIN_BIN to the build plugins folder}
# shellcheck source=tests/integration/lib.sh
source "$here/lib.sh"
# shellcheck source=tests/icinga/icinga.sh
source "$repo/tests/icinga/icinga.sh"
sandbox_env

work=$(mktemp -d /tmp/mailmon-icinga-plugins.XXXXXX)
trap 'icinga_stop "$work/node"; rm -rf "$work"' EXIT
node=$work/node

# Scenarios, as an operator would write them: one service per case on host "sandbox", whose
# variables point every command at the sandbox resolver and CA. vars.expect_state is what the
# test asserts; scenarios of a plugin that is not built are skipped.
scenarios=$(cat <<'CONF'
template Service "scenario" { host_name = "sandbox"; check_interval = 1h }
object Service "mx-good" { import "scenario"; check_command = "mx"
    vars.expect_state = 0; vars.mx_domain = "good.mailmon.test" }
object Service "mx-onedown" { import "scenario"; check_command = "mx"
    vars.expect_state = 1; vars.mx_domain = "onedown.mailmon.test" }
object Service "mx-alldown" { import "scenario"; check_command = "mx"
    vars.expect_state = 2; vars.mx_domain = "alldown.mailmon.test" }
object Service "mx-nullmx-required" { import "scenario"; check_command = "mx"
    vars.expect_state = 2; vars.mx_domain = "nullmx.mailmon.test"; vars.mx_require_mail = true }
object Service "mx-expect" { import "scenario"; check_command = "mx"
    vars.expect_state = 1; vars.mx_domain = "good.mailmon.test"
    vars.mx_expect = [ "mx1.mailmon.test", "mx2.mailmon.test" ] }
object Service "mx-starttls" { import "scenario"; check_command = "mx"
    vars.expect_state = 0; vars.mx_domain = "good.mailmon.test"; vars.mx_starttls = true
    vars.mx_warning = 2; vars.mx_critical = 5 }
object Service "smtp_tls-ok" { import "scenario"; check_command = "smtp_tls"
    vars.expect_state = 0; vars.smtp_tls_port = [ 25, 465, 587 ]
    vars.smtp_tls_sni = "mx1.mailmon.test" }
object Service "smtp_tls-by-name" { import "scenario"; check_command = "smtp_tls"
    vars.expect_state = 0; vars.smtp_tls_address = "mx1.mailmon.test" }
object Service "smtp_tls-refused" { import "scenario"; check_command = "smtp_tls"
    vars.expect_state = 2; vars.smtp_tls_address = "127.25.0.99" }
object Service "smtp_tls-name-25" { import "scenario"; check_command = "smtp_tls"
    vars.expect_state = 1; vars.smtp_tls_sni = "wrong.mailmon.test" }
object Service "smtp_tls-name-465" { import "scenario"; check_command = "smtp_tls"
    vars.expect_state = 2; vars.smtp_tls_port = 465; vars.smtp_tls_sni = "wrong.mailmon.test" }
object Service "smtp_tls-tls13" { import "scenario"; check_command = "smtp_tls"
    vars.expect_state = 0; vars.smtp_tls_min_tls = "1.3"; vars.smtp_tls_sni = "mx1.mailmon.test"
    vars.smtp_tls_warning = 2; vars.smtp_tls_critical = 5 }
object Service "mail_cert-ok" { import "scenario"; check_command = "mail_cert"
    vars.expect_state = 0; vars.mail_cert_port = [ 25, 465, 587 ]
    vars.mail_cert_name = "mx1.mailmon.test" }
object Service "mail_cert-days" { import "scenario"; check_command = "mail_cert"
    vars.expect_state = 1; vars.mail_cert_warning = 400 }
object Service "mail_cert-name" { import "scenario"; check_command = "mail_cert"
    vars.expect_state = 2; vars.mail_cert_name = "wrong.mailmon.test" }
object Service "mail_cert-untrusted" { import "scenario"; check_command = "mail_cert"
    vars.expect_state = 2; vars.mail_cert_ca_file = "/etc/ssl/certs/ca-certificates.crt" }
object Service "mail_cert-domain" { import "scenario"; check_command = "mail_cert"
    vars.expect_state = 0; vars.mail_cert_address = ""
    vars.mail_cert_domain = "good.mailmon.test" }
object Service "dnsbl-clean" { import "scenario"; check_command = "dnsbl"
    vars.expect_state = 0; vars.dnsbl_address = "127.0.0.1" }
object Service "dnsbl-one" { import "scenario"; check_command = "dnsbl"
    vars.expect_state = 1; vars.dnsbl_address = "127.0.0.2"
    vars.dnsbl_zone = [ "zone01.bl.test" ] }
object Service "dnsbl-two" { import "scenario"; check_command = "dnsbl"
    vars.expect_state = 2; vars.dnsbl_address = "127.0.0.10" }
object Service "dnsbl-domain" { import "scenario"; check_command = "dnsbl"
    vars.expect_state = 2; vars.dnsbl_address = ""; vars.dnsbl_domain = "good.mailmon.test"
    vars.dnsbl_zone = [ "dead.bl.test" ] }
CONF
)

icinga_ca "$work/ca"
icinga_node "$node" localhost "$(icinga_free_port)" "$work/ca" "$plugin_dir"
echo "include \"$repo/icinga-templates/mailmon.conf\"" \
    >"$node/etc/zones.d/global-templates/mailmon.conf"
mkdir -p "$node/etc/zones.d/master"
cat >"$node/etc/objects.conf" <<'CONF'
object Endpoint NodeName { }
object Zone "master" { endpoints = [ NodeName ] }
CONF

# The sandbox's resolver, CA and DNSBL zones for every command, as an operator sets them.
sandbox_vars="vars.mx_dns_server = \"$MAILMON_DNS\"
    vars.smtp_tls_dns_server = \"$MAILMON_DNS\"
    vars.mail_cert_dns_server = \"$MAILMON_DNS\"
    vars.dnsbl_dns_server = \"$MAILMON_DNS\"
    vars.smtp_tls_ca_file = \"$MAILMON_CA_FILE\"
    vars.mail_cert_ca_file = \"$MAILMON_CA_FILE\"
    vars.dnsbl_no_default_zones = true
    vars.dnsbl_zone = [ \"zone01.bl.test\", \"zone02.bl.test\" ]
    vars.dnsbl_warning = 1
    vars.dnsbl_critical = 2"
{
    cat <<CONF
template Host "sandbox-host" {
    check_command = "dummy"
    enable_active_checks = false
    $sandbox_vars
}
object Host "sandbox" { import "sandbox-host"; address = "127.25.0.1" }

/* A mail host configured the documented way: host variables only. */
object Host "mx1.mailmon.test" {
    import "sandbox-host"
    import "mailmon-mail-host"
    address = "127.25.0.1"
    vars.mail_domain = "good.mailmon.test"
    vars.smtp_ports = [ 25, 465, 587 ]
    vars.dnsbl_zone = [ "zone03.bl.test" ]
}
CONF
    echo "$scenarios"
} >"$node/etc/zones.d/master/sandbox.conf"

check "icinga2 -C"
if icinga_validate "$node"; then
    pass "the templates and the scenario services validate"
else
    fail_once "the templates and the scenario services validate" "" "$(cat "$node/validate.out")"
    finish
fi
icinga_start "$node"

# expect_service HOST SERVICE STATE: forces the check, asserts the state and that Icinga's
# perfdata parser accepts every item.
expect_service()
{
    local host=$1 service=$2 state=$3 result parsed raw
    check "$host!$service"
    result=$(icinga_check "$node" "$host" "$service") || {
        fail_once "a fresh result" "a result" "none within 30 s"
        return
    }
    expect_equal "state $state" "$state" "$(jq -r '.state | floor' <<<"$result")"
    [[ $(jq -r ".state | floor" <<<"$result") == "$state" ]] ||
        echo "    output: $(jq -r .output <<<"$result")"
    raw=$(jq -r '.performance_data | length' <<<"$result")
    parsed=$(icinga_perfdata "$node" "$host" "$service")
    expect_equal "every perfdata item parses" "" "$(grep '^"INVALID' <<<"$parsed" || true)"
    expect_equal "$raw perfdata items parsed" "$raw" "$(grep -c '^{' <<<"$parsed" || true)"
    expect_match "perfdata present" '^[1-9]' "$raw"
}

while read -r name command state; do
    if [[ ! -x $plugin_dir/check_$command ]]; then
        echo "note: check_$command is not built; scenario $name skipped"
        continue
    fi
    expect_service sandbox "$name" "$state"
done < <(icinga_api "$node" GET "/v1/objects/services?filter=host.name==%22sandbox%22" |
    jq -r '.results[].attrs | select(.vars.expect_state != null)
        | "\(.name) \(.check_command) \(.vars.expect_state)"')

# The host set up with variables alone: every generated check of a built plugin is OK.
declare -A service_plugins=([mx]=check_mx [dnsbl]=check_dnsbl [mail_cert]=check_mail_cert
    [smtp_tls-25]=check_smtp_tls [smtp_tls-465]=check_smtp_tls [smtp_tls-587]=check_smtp_tls)
for service in mx dnsbl mail_cert smtp_tls-25 smtp_tls-465 smtp_tls-587; do
    if [[ -x $plugin_dir/${service_plugins[$service]} ]]; then
        expect_service mx1.mailmon.test "$service" 0
    fi
done

# The API example of docs/icinga.md, as written, against this Icinga.
check "API example"
example=$(sed -n '/<!-- api-example:start -->/,/<!-- api-example:end -->/p' \
    "$repo/docs/icinga.md" | sed '/^```/d; /^<!--/d; /^[A-Z_]*=/d')
port=$(sed -n 's/^port=//p' "$node/node.env")
reply=$(ICINGA="https://127.0.0.1:$port" AUTH="$icinga_api_user:$icinga_api_password" \
    HOST=sandbox DOMAIN=good.mailmon.test bash -euo pipefail -c "$example")
expect_equal "the PUT creates the service" 200 \
    "$(jq -r '.results[0].code | floor' <<<"$reply" 2>&1)"
expect_service sandbox "mail-good.mailmon.test" 0

finish
