# SPDX-License-Identifier: GPL-3.0-or-later
# shellcheck shell=bash
# Private Icinga 2 instances for the tests, sourced by tests/integration/icinga_*.sh: one
# prefix per node under a temporary directory, a test CA, the REST API on 127.0.0.1, and
# helpers that force a check and read its result and perfdata through Icinga's own parser.
# Needs icinga2-bin, icinga2-common, openssl, curl and jq; writes nothing outside the prefix.

readonly icinga_api_user=ci
readonly icinga_api_password=ci-secret

# A TCP port on 127.0.0.1 that nothing listens on now.
icinga_free_port()
{
    local port
    while true; do
        port=$((20000 + RANDOM % 20000))
        if ! ss -Htln "sport = :$port" | grep -q .; then
            echo "$port"
            return
        fi
    done
}

# A test CA in DIR (ca.crt, ca.key) that signs every node of one test. EC keys keep the
# set-up fast on a shared machine; Icinga accepts any key OpenSSL does.
icinga_ca()
{
    local dir=$1
    mkdir -p "$dir"
    openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout "$dir/ca.key" -out "$dir/ca.crt" -days 2 -subj "/CN=mailmon test Icinga CA" \
        2>/dev/null
}

# Makes the prefix of one node: DIR/etc/icinga2.conf, its certificate (CN = NAME) and the
# directories Icinga writes to. The caller adds objects in DIR/etc/objects.conf and files of
# the global zone in DIR/etc/zones.d/global-templates/. PLUGIN_DIR becomes PluginContribDir.
icinga_node()
{
    local dir=$1 name=$2 port=$3 ca=$4 plugin_dir=$5
    local var=$dir/var certs=$dir/var/lib/icinga2/certs
    mkdir -p "$dir/etc/zones.d/global-templates" "$certs" \
        "$var"/{cache,lib,log,spool,run}/icinga2
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout "$certs/$name.key" -out "$certs/$name.csr" -subj "/CN=$name" 2>/dev/null
    openssl x509 -req -in "$certs/$name.csr" -CA "$ca/ca.crt" -CAkey "$ca/ca.key" \
        -CAcreateserial -days 2 -out "$certs/$name.crt" 2>/dev/null
    cp "$ca/ca.crt" "$certs/ca.crt"
    touch "$dir/etc/objects.conf"
    printf '%s\n' "name=$name" "port=$port" >"$dir/node.env"
    icinga_write_config "$dir" "$name" "$port" "$plugin_dir"
}

icinga_write_config()
{
    local dir=$1 name=$2 port=$3 plugin_dir=$4
    cat >"$dir/etc/icinga2.conf" <<CONF
const PluginDir = "/usr/lib/nagios/plugins"
const PluginContribDir = "$plugin_dir"
const ManubulonPluginDir = PluginDir
const NodeName = "$name"
const TicketSalt = ""
include <itl>
include <plugins>
object FileLogger "main-log" { severity = "information"; path = LogDir + "/icinga2.log" }
object CheckerComponent "checker" { }
object NotificationComponent "notification" { }
object ApiListener "api" {
    bind_host = "127.0.0.1"
    bind_port = $port
    accept_commands = true
}
object ApiUser "$icinga_api_user" { password = "$icinga_api_password"; permissions = [ "*" ] }
object Zone "global-templates" { global = true }
include "objects.conf"
include_zones "mailmon-test", "zones.d"
CONF
}

# The -D options that keep every path of the daemon inside the prefix.
icinga_defines()
{
    local var=$1/var
    echo "-DLocalStateDir=$var -DInitRunDir=$var/run/icinga2"
}

icinga_validate()
{
    local dir=$1
    # shellcheck disable=SC2046 # the defines are words without spaces
    ICINGA2_USER=$(id -un) ICINGA2_GROUP=$(id -gn) \
        icinga2 daemon -C -c "$dir/etc/icinga2.conf" $(icinga_defines "$dir") \
        >"$dir/validate.out" 2>&1
}

# Starts the daemon in the background (inside network namespace NETNS when given) and waits
# until its API answers.
icinga_start()
{
    local dir=$1 netns=${2:-}
    local -a prefix=()
    [[ -n $netns ]] && prefix=(ip netns exec "$netns")
    # shellcheck disable=SC2046
    ICINGA2_USER=$(id -un) ICINGA2_GROUP=$(id -gn) \
        "${prefix[@]}" icinga2 daemon -c "$dir/etc/icinga2.conf" $(icinga_defines "$dir") \
        >"$dir/daemon.out" 2>&1 &
    echo $! >"$dir/daemon.pid"
    [[ -n $netns ]] && return 0
    icinga_wait_ready "$dir"
}

icinga_wait_ready()
{
    local dir=$1 tries
    for ((tries = 0; tries < 150; tries++)); do
        if icinga_api "$dir" GET /v1/status >/dev/null 2>&1; then
            return 0
        fi
        if ! icinga_running "$(cat "$dir/daemon.pid")"; then
            echo "icinga: daemon in $dir exited:" >&2
            tail -n 20 "$dir/daemon.out" >&2
            return 1
        fi
        sleep 0.2
    done
    echo "icinga: API of $dir did not answer within 30 s" >&2
    return 1
}

# True while PID exists and is not a zombie waiting for its parent.
icinga_running()
{
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    [[ ${stat%% *} != Z ]]
}

# Stops the daemon started by icinga_start: SIGTERM to its umbrella process, which ends its
# worker and spawn helper; SIGKILL if it is still there after 10 s.
icinga_stop()
{
    local dir=$1 pid tries
    [[ -s $dir/daemon.pid ]] || return 0
    pid=$(cat "$dir/daemon.pid")
    kill -TERM "$pid" 2>/dev/null || true
    for ((tries = 0; tries < 100; tries++)); do
        icinga_running "$pid" || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    rm -f "$dir/daemon.pid"
}

# icinga_api DIR METHOD PATH [JSON]: one REST call to the node's API, body on stdout.
icinga_api()
{
    local dir=$1 method=$2 path=$3 body=${4:-}
    local port
    port=$(sed -n 's/^port=//p' "$dir/node.env")
    local -a args=(-sS -k --max-time 10 -u "$icinga_api_user:$icinga_api_password"
        -H 'Accept: application/json' -X "$method")
    [[ -n $body ]] && args+=(-d "$body")
    curl "${args[@]}" "https://127.0.0.1:$port$path"
}

# icinga_eval DIR EXPRESSION: runs Icinga DSL through the console API, prints the JSON result;
# a script error is printed to stderr and fails.
icinga_eval()
{
    local dir=$1 script=$2 reply
    reply=$(icinga_api "$dir" POST /v1/console/execute-script \
        "$(jq -cn --arg s "$script" '{session: "mailmon-test", command: $s}')")
    if ! jq -e '.results[0].code == 200' <<<"$reply" >/dev/null 2>&1; then
        echo "icinga: console script failed: $reply" >&2
        return 1
    fi
    jq -c '.results[0].result' <<<"$reply"
}

# The service's attributes ATTR... as one JSON object.
icinga_service_attrs()
{
    local dir=$1 host=$2 service=$3
    shift 3
    local query
    query=$(printf '&attrs=%s' "$@")
    icinga_api "$dir" GET "/v1/objects/services/$host!$service?${query#&}" |
        jq -c '.results[0].attrs'
}

# Forces a check now and waits (up to WAIT seconds, default 30) for a result newer than the
# request; prints last_check_result as JSON.
icinga_check()
{
    local dir=$1 host=$2 service=$3 wait=${4:-30}
    local start filter tries result
    start=$(date +%s.%N)
    filter=$(jq -cn --arg h "$host" --arg s "$service" \
        '{type: "Service", force: true,
          filter: "host.name==\"\($h)\" && service.name==\"\($s)\""}')
    icinga_api "$dir" POST /v1/actions/reschedule-check "$filter" >/dev/null
    for ((tries = 0; tries < wait * 5; tries++)); do
        result=$(icinga_service_attrs "$dir" "$host" "$service" last_check_result |
            jq -c --argjson t "$start" \
                '.last_check_result | select(. != null and .execution_end >= $t)')
        if [[ -n $result ]]; then
            echo "$result"
            return 0
        fi
        sleep 0.2
    done
    echo "icinga: no fresh result for $host!$service within $wait s" >&2
    return 1
}

# Every perfdata item of the service's last result through Icinga's parse_performance_data,
# one JSON value per line; an item Icinga cannot parse is printed as "INVALID: <item>".
icinga_perfdata()
{
    local dir=$1 host=$2 service=$3
    icinga_eval "$dir" "var r = []
        for (p in get_service(\"$host\", \"$service\").last_check_result.performance_data) {
            try { r.add(parse_performance_data(p)) } except { r.add(\"INVALID: \" + p) }
        }
        r" | jq -c '.[]'
}

# ------------------------------------------------------------------------------ assertions
# On top of tests/integration/lib.sh (pass, fail, finish), which the test sources first.
# lib.sh's fail() prints RUN_STDERR, which only its run() sets; these assertions do not run
# a command, so it starts empty (set -u would end the test otherwise).
RUN_STDERR=${RUN_STDERR:-}

# fail() ends in a diff that returns 1: under set -e (which these tests use for their set-up)
# that would end the test at the first failed assertion.
fail_once()
{
    fail "$@" || true
}

# expect_equal WHAT EXPECTED ACTUAL
expect_equal()
{
    if [[ $2 == "$3" ]]; then
        pass "$1"
    else
        fail_once "$1" "$2" "$3"
    fi
}

# expect_match WHAT REGEX ACTUAL: REGEX is a bash extended regular expression.
expect_match()
{
    if [[ $3 =~ $2 ]]; then
        pass "$1"
    else
        fail_once "$1" "/$2/" "$3"
    fi
}
