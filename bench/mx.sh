#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Benchmark, not a test: check_mx on a domain with three MX against what an operator runs today
# (Debian's check_dig -T MX, then check_smtp for each MX), and check_mx on one MX against three,
# with round-trip latency added by bench/delay_proxy (the kernel has no netem). Runs in its own
# network namespace with its own sandbox, so it touches nothing outside. Needs root.
#
#   bench/mx.sh [RTT_MS] [RUNS]     defaults: 40 ms, 10 runs; build dir: $MAILMON_BUILD or build/
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
rtt=${1:-40}
runs=${2:-10}
build=${MAILMON_BUILD:-$repo/build}
ns=mailmon-bench
work=$build/bench
plugins=/usr/lib/nagios/plugins
mkdir -p "$work"

g++ -O2 -std=c++20 "$repo/bench/delay_proxy.cpp" -o "$work/delay_proxy"
[[ -x $build/plugins/check_mx ]] || { echo "build check_mx first (cmake --build build)"; exit 1; }

# The namespace gets its own loopback, its own sandbox and a resolv.conf naming the delayed
# resolver, so check_smtp's host-name lookups pay the latency too, as they would in the field.
cleanup()
{
    ip netns exec $ns env MAILMON_SANDBOX_DIR="$work/sandbox-run" \
        "$repo/tests/sandbox/sandbox.sh" stop >/dev/null 2>&1 || true
    ip netns pids $ns 2>/dev/null | xargs -r kill 2>/dev/null || true
    ip netns delete $ns 2>/dev/null || true
    rm -rf "/etc/netns/$ns"
}
trap cleanup EXIT
cleanup
ip netns add $ns
ip netns exec $ns ip link set lo up
mkdir -p "/etc/netns/$ns"
echo "nameserver 127.54.0.1" >"/etc/netns/$ns/resolv.conf"
in_ns() { ip netns exec $ns "$@"; }
in_ns env MAILMON_SANDBOX_DIR="$work/sandbox-run" "$repo/tests/sandbox/sandbox.sh" start

proxy() { setsid -f ip netns exec $ns "$work/delay_proxy" "$@" >/dev/null 2>&1; }
proxy udp 127.54.0.1 53 127.53.0.1 53 "$rtt"
proxy tcp 127.54.0.1 53 127.53.0.1 53 "$rtt"
for n in 1 2 3; do
    proxy tcp 127.26.0.$n 25 127.25.0.$n 25 "$rtt"
done
sleep 0.5

check_mx="$build/plugins/check_mx --dns-server 127.54.0.1 -4 -t 10"
today="$plugins/check_dig -H 127.54.0.1 -l bench3.mailmon.test -T MX -t 10"
for n in 1 2 3; do
    today+="; $plugins/check_smtp -H bmx$n.mailmon.test -t 10"
done

echo "== outputs (RTT ${rtt} ms)"
in_ns bash -c "$check_mx -H bench3.mailmon.test" | head -1
in_ns bash -c "$today" | cut -c1-100

echo "== peak RSS (KiB), one run each"
for label in "check_mx 1 MX" "check_mx 3 MX" "check_dig + 3 check_smtp"; do
    case $label in
        "check_mx 1 MX") cmd="$check_mx -H bench1.mailmon.test" ;;
        "check_mx 3 MX") cmd="$check_mx -H bench3.mailmon.test" ;;
        *) cmd=$today ;;
    esac
    # The largest single process of the command: GNU time reports the peak of each program.
    peak=0
    while read -r kib; do
        ((kib > peak)) && peak=$kib
    done < <(in_ns bash -c "$(sed -E "s#(^|; )([^ ;]+)#\1/usr/bin/time -f %M -a -o $work/rss \2#g" <<<"$cmd")" \
        >/dev/null 2>&1; cat "$work/rss"; rm -f "$work/rss")
    printf '%-28s %s\n' "$label" "$peak"
done

echo "== wall and CPU (hyperfine, $runs runs)"
in_ns hyperfine -i --warmup 2 --runs "$runs" --style basic --export-markdown "$work/mx-bench.md" \
    -n "check_mx 1 MX" "$check_mx -H bench1.mailmon.test" \
    -n "check_mx 3 MX" "$check_mx -H bench3.mailmon.test" \
    -n "check_dig + 3 check_smtp" "$today" || true
cat "$work/mx-bench.md"
