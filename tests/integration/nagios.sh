#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Nagios 4 with the shipped definitions: nagios/mail-monitoring-plugins.cfg and the example
# services validate with `nagios4 -v`, and a private Nagios runs check_mx through its command
# against the sandbox until the result (state, output, perfdata) is in status.dat.
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
check nagios

work=$(mktemp -d /tmp/mailmon-nagios.XXXXXX)
nagios_pid=
cleanup()
{
    if [[ -n $nagios_pid ]]; then
        kill -TERM "$nagios_pid" 2>/dev/null || true
        wait "$nagios_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work"/{var,spool/checkresults,archives}

# Everything a nagios.cfg needs to stay inside $work; $1 lists the object files.
write_main_config()
{
    local file=$1
    shift
    {
        printf 'cfg_file=%s\n' "$@"
        cat <<CONF
resource_file=$work/resource.cfg
log_file=$work/var/nagios.log
object_cache_file=$work/var/objects.cache
precached_object_file=$work/var/objects.precache
status_file=$work/var/status.dat
command_file=$work/var/nagios.cmd
lock_file=$work/var/nagios.lock
temp_file=$work/var/nagios.tmp
temp_path=$work/var
check_result_path=$work/spool/checkresults
state_retention_file=$work/var/retention.dat
log_archive_path=$work/archives
query_socket=$work/var/nagios.qh
nagios_user=$(id -un)
nagios_group=$(id -gn)
use_syslog=0
check_for_updates=0
interval_length=1
status_update_interval=1
check_result_reaper_frequency=1
max_service_check_spread=1
max_host_check_spread=1
service_inter_check_delay_method=n
service_check_timeout=60
enable_notifications=0
process_performance_data=0
CONF
    } >"$file"
}

echo "\$USER1\$=$plugin_dir" >"$work/resource.cfg"
cat >"$work/base.cfg" <<'CONF'
define timeperiod {
    timeperiod_name 24x7
    alias           always
    monday          00:00-24:00
    tuesday         00:00-24:00
    wednesday       00:00-24:00
    thursday        00:00-24:00
    friday          00:00-24:00
    saturday        00:00-24:00
    sunday          00:00-24:00
}
define command {
    command_name    notify-nobody
    command_line    /bin/true
}
define contact {
    contact_name                    nobody
    host_notifications_enabled      0
    service_notifications_enabled   0
    host_notification_period        24x7
    service_notification_period     24x7
    host_notification_options       n
    service_notification_options    n
    host_notification_commands      notify-nobody
    service_notification_commands   notify-nobody
}
define host {
    name                    generic-host
    register                0
    check_period            24x7
    max_check_attempts      1
    contacts                nobody
    notification_period     24x7
}
define service {
    name                    generic-service
    register                0
    check_period            24x7
    max_check_attempts      1
    check_interval          3600
    retry_interval          3600
    contacts                nobody
    notification_period     24x7
}
CONF

# 1. The shipped commands and the example services validate.
write_main_config "$work/validate.cfg" "$work/base.cfg" \
    "$repo/nagios/mail-monitoring-plugins.cfg" "$repo/nagios/services.cfg.example"
if nagios4 -v "$work/validate.cfg" >"$work/validate.out" 2>&1; then
    expect_match "nagios4 -v accepts the commands and the example services" \
        'Total Errors: +0' "$(cat "$work/validate.out")"
else
    cat "$work/validate.out"
    expect_equal "nagios4 -v accepts the commands and the example services" 0 1
fi

# 2. One service through the shipped command, run by a private Nagios.
cat >"$work/run-objects.cfg" <<CONF
define host {
    use             generic-host
    host_name       sandbox
    address         127.0.0.1
    check_command   notify-nobody
    active_checks_enabled 0
}
define service {
    use                     generic-service
    host_name               sandbox
    service_description     MX good.mailmon.test
    check_command           check_mx!good.mailmon.test!--dns-server $MAILMON_DNS -t 5
}
CONF
write_main_config "$work/run.cfg" "$work/base.cfg" "$repo/nagios/mail-monitoring-plugins.cfg" \
    "$work/run-objects.cfg"
nagios4 "$work/run.cfg" >"$work/nagios.out" 2>&1 &
nagios_pid=$!

# status.dat lists the service with has_been_checked=1 once its first result is processed.
service_status()
{
    awk -v RS='}' '/servicestatus/ && /service_description=MX good.mailmon.test/' \
        "$work/var/status.dat" 2>/dev/null || true
}
status=
for ((tries = 0; tries < 150; tries++)); do
    status=$(service_status)
    [[ $status == *has_been_checked=1* ]] && break
    sleep 0.2
done
field()
{
    sed -n "s/^[[:space:]]*$1=//p" <<<"$status"
}
expect_equal "Nagios ran check_mx through the shipped command" 1 "$(field has_been_checked)"
expect_equal "check_mx is OK for a domain whose MX all work" 0 "$(field current_state)"
expect_match "Nagios kept the plugin's status line" '^MX OK - ' "$(field plugin_output)"
expect_match "Nagios kept the perfdata" 'mx_count=' "$(field performance_data)"

finish
