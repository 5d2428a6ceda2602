#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# check_dnsbl against Debian's check_rbl on the same 10 and 50 sandbox zones, side by side, at
# zero and 20 ms of added round-trip time: wall time (hyperfine), CPU (user + system, hyperfine)
# and peak RSS (GNU time). This kernel has no netem, so bench/udp_delay.cpp, a delaying UDP
# proxy in front of rbldnsd, adds the latency for both tools alike. A benchmark, not a test:
# needs root (the sandbox), hyperfine, jq, monitoring-plugins-contrib and check_rbl's Perl
# modules (libmonitoring-plugin-perl, libnet-dns-perl, libcapture-tiny-perl, ...).
set -euo pipefail
cd "$(dirname "$0")/.."

runs=${BENCH_RUNS:-20}
check_rbl=${CHECK_RBL:-/usr/lib/nagios/plugins/check_rbl}
# Listed on two zones, so check_dnsbl also makes its second round for the TXT reasons.
target=127.0.0.10
rbl_server=127.53.0.3
work=$(mktemp -d)
proxy_pids=()
started_sandbox=no

cleanup()
{
    local pid
    for pid in "${proxy_pids[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    [[ $started_sandbox == no ]] || tests/sandbox/sandbox.sh stop >/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

build()
{
    cmake -S . -B build >/dev/null
    cmake --build build -j2 --target check_dnsbl >/dev/null
    mkdir -p build/bench
    g++ -std=c++20 -O2 -Wall -Wextra -o build/bench/udp_delay bench/udp_delay.cpp
}

start_sandbox()
{
    if ! tests/sandbox/sandbox.sh status >/dev/null 2>&1; then
        tests/sandbox/sandbox.sh start >/dev/null
        started_sandbox=yes
    fi
}

# start_proxy ADDRESS RTT_MS: the delaying proxy on ADDRESS:53 in front of rbldnsd.
start_proxy()
{
    build/bench/udp_delay "$1:53" "$rbl_server:53" "$2" &
    proxy_pids+=($!)
    local tries
    for tries in $(seq 50); do
        dig +short +time=1 +tries=1 "@$1" 2.0.0.127.zone01.bl.test A >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "cannot start the delaying proxy on $1 after $tries tries" >&2
    exit 1
}

# The peak RSS in KiB of five runs of a command (GNU time's %M), the largest.
peak_rss()
{
    local peak=0 rss
    for _ in 1 2 3 4 5; do
        rss=$(/usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -n 1)
        ((rss > peak)) && peak=$rss
    done
    echo "$peak"
}

# measure ZONES RTT_MS SERVER: both tools on zone01..zoneNN; appends rows to $work/rows.
measure()
{
    local zones=$1 rtt=$2 server=$3 i rss_dnsbl rss_rbl
    local dnsbl_cmd=(build/plugins/check_dnsbl --dns-server "$server" --no-default-zones
        -H "$target")
    local rbl_cmd=("$check_rbl" -n "$server" -H "$target")
    for i in $(seq -w 1 "$zones"); do
        dnsbl_cmd+=(--zone "zone$i.bl.test")
        rbl_cmd+=(-s "zone$i.bl.test")
    done
    # hyperfine -N splits each command at spaces; none of the words holds one.
    hyperfine -N -i --warmup 3 --runs "$runs" --export-json "$work/run.json" \
        "${dnsbl_cmd[*]}" "${rbl_cmd[*]}" >/dev/null 2>&1
    rss_dnsbl=$(peak_rss "${dnsbl_cmd[@]}")
    rss_rbl=$(peak_rss "${rbl_cmd[@]}")
    jq -r --arg zones "$zones" --arg rtt "$rtt" --arg rss_dnsbl "$rss_dnsbl" \
        --arg rss_rbl "$rss_rbl" '
        .results as $r
        | [$zones, $rtt,
           ($r[0].mean * 1000), ($r[0].min * 1000), (($r[0].user + $r[0].system) * 1000),
           ($rss_dnsbl | tonumber / 1024),
           ($r[1].mean * 1000), ($r[1].min * 1000), (($r[1].user + $r[1].system) * 1000),
           ($rss_rbl | tonumber / 1024)]
        | @tsv' "$work/run.json" >>"$work/rows"
}

print_table()
{
    echo
    echo "check_dnsbl vs check_rbl, target $target (listed on 2 zones), $runs runs each"
    echo "wall = mean (min) ms; CPU = user+system ms, mean; RSS = peak MiB of 5 runs"
    echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs"
    echo
    awk -F'\t' '
        BEGIN {
            printf "| zones | added RTT | check_dnsbl wall | check_rbl wall | ratio | "
            printf "check_dnsbl CPU | check_rbl CPU | ratio | check_dnsbl RSS | "
            printf "check_rbl RSS | ratio |\n"
            print "|---|---|---|---|---|---|---|---|---|---|---|"
        }
        {
            format = "| %s | %s ms | %.1f (%.1f) | %.1f (%.1f) | %.1fx | %.1f | %.1f | %.1fx | "
            format = format "%.1f | %.1f | %.1fx |\n"
            printf format, $1, $2, $3, $4, $7, $8, $7 / $3, $5, $9, $9 / $5, $6, $10, $10 / $6
        }' "$work/rows"
    echo
    awk -F'\t' '$1 == 50 && $2 == 20 {
        printf "goals at 50 zones, 20 ms: wall %.1f ms (min %.1f) vs <= 50 ms (2 RTT + 10); ",
            $3, $4
        printf "CPU %.1f ms vs <= 5 ms; RSS %.1f MiB vs <= 8 MiB\n", $5, $6
    }' "$work/rows"
}

build
start_sandbox
start_proxy 127.53.0.20 0
start_proxy 127.53.0.21 20
for rtt in 0 20; do
    server=127.53.0.20
    [[ $rtt == 0 ]] || server=127.53.0.21
    for zones in 10 50; do
        measure "$zones" "$rtt" "$server"
    done
done
print_table
