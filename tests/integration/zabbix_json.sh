#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# The JSON output that the Zabbix external check of docs/icinga.md reads: for every plugin, on
# a healthy and a failing sandbox target, --output json prints exactly one JSON object of the
# documented shape, its exit_code is the process's exit code and matches its state, stderr
# stays empty, and the JSONPath items of the documentation find their values.
# Needs the sandbox; MAILMON_PLUGIN_BIN is the build's plugins/ folder.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/integration/lib.sh
source "$here/lib.sh"
sandbox_env
bin=${MAILMON_PLUGIN_BIN:?set MAILMON_PLUGIN_BIN to the build plugins folder}

# The shape as a jq predicate: true only for a well-formed report.
# shellcheck disable=SC2016 # jq code
schema='
    def state: . == "OK" or . == "WARNING" or . == "CRITICAL" or . == "UNKNOWN";
    def number_or_null: type == "number" or type == "null";
    def string_or_null: type == "string" or type == "null";
    type == "object"
    and (keys == ["exit_code", "long_output", "metrics", "name", "state", "summary"])
    and (.name | type == "string" and test("^[A-Z_]+$"))
    and (.state | state)
    and (.exit_code == ({"OK": 0, "WARNING": 1, "CRITICAL": 2, "UNKNOWN": 3}[.state]))
    and (.summary | type == "string" and length > 0)
    and (.long_output | type == "array"
         and all(keys == ["state", "text"] and (.state | state) and (.text | type == "string")))
    and (.metrics | type == "array" and length > 0
         and all(keys == ["critical", "label", "max", "min", "unit", "value", "warning"]
                 and (.label | type == "string" and length > 0)
                 and (.value | type == "number") and (.unit | type == "string")
                 and (.warning | string_or_null) and (.critical | string_or_null)
                 and (.min | number_or_null) and (.max | number_or_null)))'

declare -A seen=()

# json_case PLUGIN EXIT_CODE ITEM ARGUMENTS...: one run with --output json; ITEM is the jq
# equivalent of a documented JSONPath item and must yield a number.
json_case()
{
    local plugin=$1 code=$2 item=$3 value
    shift 3
    check "$plugin $*"
    if [[ ! -x $bin/$plugin ]]; then
        echo "note: $plugin is not built; case skipped"
        return
    fi
    seen[$plugin]=1
    run "$bin/$plugin" "$@" --dns-server "$MAILMON_DNS" --ca-file "$MAILMON_CA_FILE" -t 8 \
        --output json
    assert_rc "$code"
    assert_stderr_empty
    if [[ $(jq -s 'length' <<<"$RUN_STDOUT" 2>/dev/null) == 1 ]]; then
        pass "exactly one JSON value"
    else
        fail "exactly one JSON value" "1" "$RUN_STDOUT"
    fi
    if jq -e "$schema" <<<"$RUN_STDOUT" >/dev/null 2>&1; then
        pass "the documented shape"
    else
        fail "the documented shape" "a report object" "$RUN_STDOUT"
    fi
    if [[ $(jq -r .exit_code <<<"$RUN_STDOUT") == "$RUN_RC" ]]; then
        pass "exit_code is the exit code"
    else
        fail "exit_code is the exit code" "$RUN_RC" "$(jq -r .exit_code <<<"$RUN_STDOUT")"
    fi
    value=$(jq -r "$item" <<<"$RUN_STDOUT" 2>&1)
    if [[ $value =~ ^[0-9.]+$ ]]; then
        pass "the item ($item) is a number: $value"
    else
        fail "the item ($item) is a number" "a number" "$value"
    fi
}

mx_up='.metrics[] | select(.label == "mx_up") | .value'
listed='.metrics[] | select(.label == "listed") | .value'
days='[.metrics[] | select(.label | startswith("cert_days_left")) | .value] | min'
json_case check_mx 0 "$mx_up" -H good.mailmon.test
json_case check_mx 2 "$mx_up" -H alldown.mailmon.test
json_case check_dnsbl 0 "$listed" -H 127.0.0.1 --no-default-zones --zone zone01.bl.test
json_case check_dnsbl 2 "$listed" -H 127.0.0.2 --no-default-zones --zone zone01.bl.test
json_case check_mail_cert 0 "$days" -H "$MAILMON_MX1" --name mx1.mailmon.test
json_case check_mail_cert 2 "$days" -H "$MAILMON_MX1" --name wrong.mailmon.test
json_case check_smtp_tls 0 .exit_code -H "$MAILMON_MX1" -p 25 --sni mx1.mailmon.test
json_case check_smtp_tls 2 .exit_code -H 127.25.0.99 -p 25

check "coverage"
if ((${#seen[@]} > 0)); then
    pass "${#seen[@]} plugins checked: ${!seen[*]}"
else
    fail "at least one plugin checked" "one or more" "none"
fi

finish
