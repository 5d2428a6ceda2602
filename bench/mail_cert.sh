#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Benchmark, not a test: check_mail_cert against Debian's check_ssl_cert -P smtp on the same
# endpoint, side by side in one run (wall, CPU, peak RSS), and check_mail_cert on one endpoint
# against 3 MX x 3 ports (good.mailmon.test on 25, 465, 587: nine endpoints), and on one port-465
# endpoint (implicit TLS, the kind whose banner the server's Nagle used to hold for our delayed
# ACK; see TlsStream::read_some). Both tools verify
# against the sandbox CA. Runs in its own network namespace with its own sandbox, so it
# touches nothing outside. Needs root.
#
#   bench/mail_cert.sh [RUNS]     default 10 runs (check_ssl_cert: 3); build dir: $MAILMON_BUILD
#                                 or build/
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
runs=${1:-10}
build=${MAILMON_BUILD:-$repo/build}
ns=mailmon-certbench
work=$build/bench
run_dir=$work/cert-sandbox-run
check_ssl_cert=/usr/lib/nagios/plugins/check_ssl_cert
mkdir -p "$work"
[[ -x $build/plugins/check_mail_cert ]] || { echo "build check_mail_cert first"; exit 1; }
[[ -x $check_ssl_cert ]] || { echo "install monitoring-plugins-contrib (check_ssl_cert)"; exit 1; }

cleanup()
{
    ip netns exec $ns env MAILMON_SANDBOX_DIR="$run_dir" \
        "$repo/tests/sandbox/sandbox.sh" stop >/dev/null 2>&1 || true
    ip netns delete $ns 2>/dev/null || true
}
trap cleanup EXIT
cleanup
ip netns add $ns
ip netns exec $ns ip link set lo up
in_ns() { ip netns exec $ns env MAILMON_SANDBOX_DIR="$run_dir" "$@"; }
in_ns "$repo/tests/sandbox/sandbox.sh" start
ca=$run_dir/tls/ca.pem

mine="$build/plugins/check_mail_cert --dns-server 127.53.0.1 --ca-file $ca -4 -t 10"
one="$mine -H mx1.mailmon.test -p 25"
one_465="$mine -H mx1.mailmon.test -p 465"
nine="$mine --domain good.mailmon.test -p 25,465,587"
theirs="$check_ssl_cert -H 127.25.0.1 -P smtp -p 25 --rootcert-file $ca -m mx1.mailmon.test"
theirs+=" --ignore-sct --ignore-ocsp -w 21 -c 7"

echo "== outputs"
in_ns bash -c "$one" | head -1 | cut -c1-160 || true
in_ns bash -c "$nine" | head -1 | cut -c1-160 || true
in_ns bash -c "$theirs" | head -1 | cut -c1-160 || true

# GNU time's %M is the peak RSS of the largest process of the tree (getrusage of children).
echo "== peak RSS (KiB), one run each"
for label in "check_mail_cert 1 endpoint" "check_mail_cert 9 endpoints" "check_ssl_cert"; do
    case $label in
        *"1 endpoint") cmd=$one ;;
        *"9 endpoints") cmd=$nine ;;
        *) cmd=$theirs ;;
    esac
    # shellcheck disable=SC2086 # the command line is split on purpose
    rss=$(in_ns /usr/bin/time -f %M $cmd 2>&1 >/dev/null | tail -n 1 || true)
    printf '%-28s %s\n' "$label" "$rss"
done

echo "== wall and CPU (hyperfine)"
in_ns hyperfine -N -i --warmup 2 --runs "$runs" --style basic --export-json "$work/mail-cert.json" \
    -n "check_mail_cert 1 endpoint" "$one" \
    -n "check_mail_cert 1 endpoint 465" "$one_465" \
    -n "check_mail_cert 9 endpoints" "$nine"
in_ns hyperfine -N -i --warmup 1 --runs 3 --style basic --export-json "$work/ssl-cert.json" \
    -n "check_ssl_cert -P smtp" "$theirs"

# CPU = user + system per run, the mean over the runs.
python3 - "$work/mail-cert.json" "$work/ssl-cert.json" <<'EOF'
import json, sys
rows = {}
for path in sys.argv[1:]:
    for result in json.load(open(path))["results"]:
        rows[result["command"]] = (result["mean"], result["user"] + result["system"])
print("== summary")
for name, (wall, cpu) in rows.items():
    print(f"{name:28s} wall {wall * 1000:8.1f} ms   CPU {cpu * 1000:8.1f} ms")
one = rows["check_mail_cert 1 endpoint"]
nine = rows["check_mail_cert 9 endpoints"]
theirs = rows["check_ssl_cert -P smtp"]
print(f"CPU: check_ssl_cert / check_mail_cert (1 endpoint) = {theirs[1] / one[1]:.0f}x (goal >= 100x)")
slowest = rows["check_mail_cert 1 endpoint 465"]
print(f"wall: 9 endpoints / 1 endpoint = {nine[0] / one[0]:.2f} (goal <= 1.5)")
print(f"wall: 9 endpoints / 1 endpoint on 465 = {nine[0] / slowest[0]:.2f}")
EOF
