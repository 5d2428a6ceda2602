#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# The NotificationCommands fire for real: a private Icinga 2 takes a CRITICAL result for a
# mail service, notifies one user through the webhook, Slack, Telegram and email commands,
# and a local HTTP sink and a stand-in sendmail receive what a real endpoint would.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=tests/integration/lib.sh
source "$here/lib.sh"
# shellcheck source=tests/icinga/icinga.sh
source "$repo/tests/icinga/icinga.sh"
check icinga_notify

work=$(mktemp -d /tmp/mailmon-icinga-notify.XXXXXX)
sink_pid=
cleanup()
{
    icinga_stop "$work/node"
    if [[ -n $sink_pid ]]; then
        kill -TERM "$sink_pid" 2>/dev/null || true
        wait "$sink_pid" 2>/dev/null || true
    fi
    [[ -n ${KEEP:-} ]] || rm -rf "$work"
}
trap cleanup EXIT

sink_port=$(icinga_free_port)
"$repo/tests/icinga/http-sink.sh" serve "$sink_port" "$work/sink" &
sink_pid=$!
mkdir -p "$work/mail"
cat >"$work/sendmail" <<SH
#!/bin/sh
printf '%s\n' "\$*" >"$work/mail/args"
cat >"$work/mail/message"
SH
chmod +x "$work/sendmail"

icinga_ca "$work/ca"
icinga_node "$work/node" localhost "$(icinga_free_port)" "$work/ca" /nonexistent
echo "include \"$repo/icinga-templates/mailmon.conf\"" \
    >"$work/node/etc/zones.d/global-templates/mailmon.conf"
cat >"$work/node/etc/objects.conf" <<CONF
object Endpoint NodeName { }
object Zone "master" { endpoints = [ NodeName ] }
object Host "mx1.example.test" {
    address = "127.25.0.1"
    check_command = "dummy"
    enable_active_checks = false
    max_check_attempts = 1
}
object Service "smtp_tls-25" {
    host_name = "mx1.example.test"
    check_command = "dummy"
    enable_active_checks = false
    max_check_attempts = 1
}
object User "ops" {
    email = "ops@example.test"
    vars.mailmon_webhook_url = "http://127.0.0.1:$sink_port/hook"
    vars.mailmon_slack_webhook_url = "http://127.0.0.1:$sink_port/slack/T000/B000/XXXX"
    vars.mailmon_telegram_api = "http://127.0.0.1:$sink_port/telegram"
    vars.mailmon_telegram_bot_token = "123456:SECRET-TOKEN"
    vars.mailmon_telegram_chat_id = "-100042"
    vars.mailmon_email_sendmail = "$work/sendmail"
}
apply Notification "mailmon-webhook" to Service {
    command = "mailmon-webhook"
    users = [ "ops" ]
    interval = 0
    assign where host.name == "mx1.example.test"
}
apply Notification "mailmon-slack" to Service {
    command = "mailmon-slack"
    users = [ "ops" ]
    interval = 0
    assign where host.name == "mx1.example.test"
}
apply Notification "mailmon-telegram" to Service {
    command = "mailmon-telegram"
    users = [ "ops" ]
    interval = 0
    assign where host.name == "mx1.example.test"
}
apply Notification "mailmon-email" to Service {
    command = "mailmon-email"
    users = [ "ops" ]
    interval = 0
    assign where host.name == "mx1.example.test"
}
apply Notification "mailmon-webhook-host" to Host {
    command = "mailmon-webhook"
    users = [ "ops" ]
    interval = 0
    assign where host.name == "mx1.example.test"
}
CONF

if ! icinga_validate "$work/node"; then
    cat "$work/node/validate.out"
    expect_equal "the notification set-up validates" 0 1
    finish
fi
icinga_start "$work/node"

icinga_api "$work/node" POST /v1/actions/process-check-result "$(jq -cn '{
    type: "Service", filter: "host.name==\"mx1.example.test\" && service.name==\"smtp_tls-25\"",
    exit_status: 2, plugin_output: "SMTP_TLS CRITICAL - 127.25.0.1:25 refused the connection",
    performance_data: ["connect_time=0.001s"], check_source: "sat-eu"}')" >/dev/null

# Three HTTP requests and one mail are expected.
for ((tries = 0; tries < 100; tries++)); do
    requests=$(find "$work/sink" -name '*.body' | wc -l)
    [[ $requests -ge 3 && -s $work/mail/message ]] && break
    sleep 0.2
done
expect_equal "three HTTP notifications arrived" 3 "$requests"

request_to()
{
    grep -l "^POST $1 " "$work"/sink/*.head 2>/dev/null | head -n 1 | sed 's/\.head$//'
}

output="SMTP_TLS CRITICAL - 127.25.0.1:25 refused the connection"
summary="[PROBLEM] smtp_tls-25 on mx1.example.test is CRITICAL: $output"
webhook=$(request_to /hook)
expect_match "the webhook is a JSON POST" 'Content-Type: application/json' \
    "$(cat "$webhook.head" 2>/dev/null)"
expect_equal "the webhook body carries the facts of the event" \
    "$(jq -cn --arg output "$output" --arg summary "$summary" '{type: "PROBLEM",
        host: "mx1.example.test", service: "smtp_tls-25", state: "CRITICAL", output: $output,
        check_source: "sat-eu", summary: $summary}')" \
    "$(jq -c '{type, host, service, state, output, check_source, summary}' "$webhook.body" 2>&1)"
expect_match "the webhook body has a time" '^"[0-9]{4}-' "$(jq -c .time "$webhook.body" 2>&1)"

slack=$(request_to /slack/T000/B000/XXXX)
expect_equal "Slack gets the summary as text" \
    "$(jq -cn --arg summary "$summary" '{text: $summary}')" \
    "$(jq -c . "$slack.body" 2>&1)"

telegram=$(request_to /telegram/bot123456:SECRET-TOKEN/sendMessage)
expect_equal "Telegram gets chat id and text at the bot's sendMessage" \
    "$(jq -cn --arg summary "$summary" '{chat_id: "-100042", text: $summary}')" \
    "$(jq -c . "$telegram.body" 2>&1)"

expect_equal "sendmail reads the recipients from the message" "-t -oi" \
    "$(cat "$work/mail/args" 2>&1)"
message=$(cat "$work/mail/message" 2>&1)
expect_match "the mail goes to the user's address" $'(^|\n)To: ops@example.test\n' "$message"
expect_match "the mail's subject is the summary" \
    $'\nSubject: \\[PROBLEM\\] smtp_tls-25 on mx1.example.test is CRITICAL: SMTP_TLS CRITICAL' \
    "$message"
expect_match "the mail names the region that saw it" $'\nChecked from: sat-eu\n' "$message"

# A host event through the same webhook: no service, the host's state and output. (For a
# host, process-check-result takes 0 for UP and 1 for DOWN.)
check "host notification"
icinga_api "$work/node" POST /v1/actions/process-check-result "$(jq -cn '{
    type: "Host", filter: "host.name==\"mx1.example.test\"", exit_status: 1,
    plugin_output: "PING CRITICAL - Packet loss = 100%"}')" >/dev/null
for ((tries = 0; tries < 100; tries++)); do
    [[ $(grep -l '^POST /hook ' "$work"/sink/*.head | wc -l) -ge 2 ]] && break
    sleep 0.2
done
host_body=$(grep -l '^POST /hook ' "$work"/sink/*.head | while read -r head; do
    [[ ${head%.head} == "$webhook" ]] || cat "${head%.head}.body"
done)
expect_equal "a host event names the host and its state, without a service" \
    "$(jq -cn '{type: "PROBLEM", host: "mx1.example.test", service: null, state: "DOWN",
        summary: "[PROBLEM] mx1.example.test is DOWN: PING CRITICAL - Packet loss = 100%"}')" \
    "$(jq -c '{type, host, service, state, summary}' <<<"$host_body" 2>&1)"

check icinga_notify
expect_equal "no secret reached a log line" "" \
    "$(grep -h 'SECRET-TOKEN' "$work/node/var/log/icinga2/icinga2.log" || true)"

finish
