#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Benchmark, not a test: check_smtp_tls against what an operator runs today (Debian's
# check_smtp -S and check_ssl_cert -P smtp) on the sandbox Postfix, with no added latency and
# with RTT_MS added by bench/delay_proxy; and check_smtp_tls on 3 ports at once against 1.
# Reports wall and CPU (hyperfine), peak RSS (GNU time) and round trips, estimated as the
# added wall time divided by the added RTT. All tools get an IP address, so DNS is not in the
# comparison; ours verifies the chain against the sandbox CA like check_ssl_cert does.
# Runs in its own network namespace with its own sandbox, so it touches nothing outside.
# Needs root.
#
#   bench/smtp_tls.sh [RTT_MS] [RUNS]   defaults: 40 ms, 10 runs
#   build dir: $MAILMON_BUILD or build/
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
rtt=${1:-40}
runs=${2:-10}
build=${MAILMON_BUILD:-$repo/build}
ns=mailmon-bench-smtp
work=$build/bench-smtp
plugins=/usr/lib/nagios/plugins
mkdir -p "$work"

g++ -O2 -std=c++20 "$repo/bench/delay_proxy.cpp" -o "$work/delay_proxy"
[[ -x $build/plugins/check_smtp_tls ]] || { echo "build check_smtp_tls first"; exit 1; }

cleanup()
{
    ip netns exec $ns env MAILMON_SANDBOX_DIR="$work/sandbox-run" \
        "$repo/tests/sandbox/sandbox.sh" stop >/dev/null 2>&1 || true
    ip netns pids $ns 2>/dev/null | xargs -r kill 2>/dev/null || true
    ip netns delete $ns 2>/dev/null || true
}
trap cleanup EXIT
cleanup
ip netns add $ns
ip netns exec $ns ip link set lo up
in_ns() { ip netns exec $ns "$@"; }
in_ns env MAILMON_SANDBOX_DIR="$work/sandbox-run" "$repo/tests/sandbox/sandbox.sh" start >/dev/null
ca=$work/sandbox-run/tls/ca.pem

# 127.25.0.1 is Postfix itself; 127.26.0.1 forwards to it with the added round-trip time.
proxy() { (in_ns "$work/delay_proxy" "$@" >/dev/null &) }
in_ns ip addr add 127.26.0.1/32 dev lo 2>/dev/null || true
for port in 25 465 587; do
    proxy tcp 127.26.0.1 $port 127.25.0.1 $port "$rtt"
done
sleep 0.5

commands()
{
    local ip=$1
    local ours="$build/plugins/check_smtp_tls -H $ip --sni mx1.mailmon.test --ca-file $ca -t 10"
    # The sandbox CA has no SCT and no OCSP responder: without these check_ssl_cert says so.
    local ssl_cert="$plugins/check_ssl_cert -H $ip -p 25 -P smtp --sni mx1.mailmon.test -r $ca"
    names=("check_smtp_tls 25" "check_smtp -S 25" "check_ssl_cert -P smtp 25"
        "check_smtp_tls 25,465,587")
    cmds=("$ours -p 25"
        "$plugins/check_smtp -H $ip -p 25 -S -t 10"
        "$ssl_cert --ignore-sct --ignore-ocsp -t 10"
        "$ours -p 25,465,587")
}

measure()
{
    local label=$1 ip=$2 args=() index
    commands "$ip"
    echo "== $label: outputs"
    for index in "${!cmds[@]}"; do
        printf '%-28s %s\n' "${names[$index]}" "$(in_ns bash -c "${cmds[$index]}" | head -1 |
            cut -c1-110)"
    done
    echo "== $label: peak RSS (KiB), one run each"
    for index in "${!cmds[@]}"; do
        in_ns /usr/bin/time -f %M -o "$work/rss" bash -c "exec ${cmds[$index]}" >/dev/null 2>&1 ||
            true
        printf '%-28s %s\n' "${names[$index]}" "$(tail -n 1 "$work/rss")"
    done
    for index in "${!cmds[@]}"; do
        args+=(-n "${names[$index]}" "${cmds[$index]}")
    done
    in_ns hyperfine -N -i --warmup 2 --runs "$runs" --style none \
        --export-json "$work/$label.json" "${args[@]}" >/dev/null
}

measure zero 127.25.0.1
measure rtt 127.26.0.1

echo "== wall, CPU (user+sys) and round trips; RTT ${rtt} ms, $runs runs"
python3 - "$work/zero.json" "$work/rtt.json" "$rtt" <<'EOF'
import json, sys
zero = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
slow = {r["command"]: r for r in json.load(open(sys.argv[2]))["results"]}
rtt = float(sys.argv[3]) / 1000
print(f"{'command':28} {'wall 0 ms':>10} {'CPU 0 ms':>9} {'wall RTT':>10} {'CPU RTT':>9}",
      f"{'RTs':>5}")
for name, fast in zero.items():
    late = slow[name]
    trips = (late["mean"] - fast["mean"]) / rtt
    print(f"{name:28} {fast['mean']*1000:8.1f}ms {(fast['user']+fast['system'])*1000:7.1f}ms "
          f"{late['mean']*1000:8.1f}ms {(late['user']+late['system'])*1000:7.1f}ms {trips:5.1f}")
one, three = slow["check_smtp_tls 25"]["mean"], slow["check_smtp_tls 25,465,587"]["mean"]
print(f"3 ports / 1 port wall at RTT: {three/one:.2f}")
EOF
