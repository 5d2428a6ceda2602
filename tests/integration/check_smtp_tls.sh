#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# check_smtp_tls against the sandbox Postfix (25 STARTTLS, 465 implicit TLS, 587 submission)
# and against fault_peer for what no real MTA does on demand: tarpit, dribbled banner, 554
# greeting, no STARTTLS, 454 to STARTTLS, aborted handshake, plain text on an implicit-TLS
# port, TLS on a STARTTLS port, a handshake never answered, 2 MiB lines, '|' and control bytes. Each case asserts the exit
# code, the golden stdout (durations replaced by "Xs"), empty stderr and, where a peer stalls,
# that the run ends before -t. Fault peers listen on 127.25.0.70-.79 (reserved in the README);
# the tarpit and the silent resolver are lib.sh's.
set -uo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"
sandbox_env

export plugin="$MAILMON_PLUGIN_BIN/check_smtp_tls"
fault_peer=${MAILMON_FAULT_PEER:-$MAILMON_PLUGIN_BIN/../tests/integration/fault_peer}

# Starts fault_peer MODE ADDRESS PORT and waits until it is bound.
start_fault_peer()
{
    local ready
    ready=$(mktemp -u)
    mkfifo "$ready"
    "$fault_peer" "$@" >"$ready" &
    peer_pids+=($!)
    read -r -t 5 _ <"$ready" || echo "FAIL: fault_peer $* did not start"
    rm -f "$ready"
}

# A CA that signed nothing the sandbox serves: a chain that does not verify.
scratch=$(mktemp -d)
# lib.sh's start_peer sets its own EXIT trap: arm_cleanup puts ours back after it.
cleanup()
{
    stop_peers
    rm -rf "$scratch"
}
arm_cleanup()
{
    trap cleanup EXIT
}
arm_cleanup
other_ca=$scratch/other-ca.pem
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj "/CN=not the sandbox CA" -keyout "$scratch/key.pem" -out "$other_ca" 2>/dev/null

smtp_tls()
{
    "$plugin" --dns-server "$MAILMON_DNS" --helo monitor.mailmon.test "$@"
}

# Peak resident memory of one run in KiB, from GNU time.
peak_kib()
{
    local file
    file=$(mktemp)
    /usr/bin/time -f %M -o "$file" "$plugin" --helo monitor.mailmon.test "$@" >/dev/null 2>&1
    tail -n 1 "$file"
    rm -f "$file"
}

check "three ports on both addresses of mx1, verified against the sandbox CA"
run smtp_tls -H mx1.mailmon.test -p 25,465,587 --ca-file "$MAILMON_CA_FILE"
assert_rc 0
assert_first_line_re "SMTP_TLS OK - mx1.mailmon.test ports 25,465,587: 6 endpoints answer, TLS works on 6 \(TLSv1.3 or better\) \| .*"
assert_stdout_contains "[OK] 127.25.0.1:465 tls: TLSv1.3 TLS_AES_256_GCM_SHA384 x25519, certificate verified;"
assert_stdout_contains "[OK] [fd6d:6d6d::25:1]:587 starttls: TLSv1.3"
assert_stdout_contains "'fd6d:6d6d::25:1_587_handshake'="
assert_stderr_empty

check "one port, golden output"
run smtp_tls -H mx2.mailmon.test --ca-file "$MAILMON_CA_FILE"
expect 0 "SMTP_TLS OK - mx2.mailmon.test port 25: 1 endpoint answers, TLS works on 1 (TLSv1.3 or better) | 127.25.0.2_25_connect=Xs;;;0 127.25.0.2_25_banner=Xs;;;0 127.25.0.2_25_ehlo=Xs;;;0 127.25.0.2_25_starttls=Xs;;;0 127.25.0.2_25_handshake=Xs;;;0 127.25.0.2_25_total=Xs;;;0
[OK] 127.25.0.2:25 starttls: TLSv1.3 TLS_AES_256_GCM_SHA384 x25519, certificate verified; connect Xs banner Xs ehlo Xs starttls Xs handshake Xs total Xs; EHLO before TLS: 8BITMIME CHUNKING DSN ENHANCEDSTATUSCODES ETRN PIPELINING SIZE=10240000 SMTPUTF8 STARTTLS VRFY; EHLO after TLS: 8BITMIME CHUNKING DSN ENHANCEDSTATUSCODES ETRN PIPELINING SIZE=10240000 SMTPUTF8 VRFY"

check "untrusted chain on 25 is WARNING (opportunistic senders deliver)"
run smtp_tls -H mx1.mailmon.test -4 --ca-file "$other_ca"
assert_rc 1
assert_first_line_re "SMTP_TLS WARNING - mx1.mailmon.test port 25: 127.25.0.1:25 certificate not verified: unable to get local issuer certificate \| .*"
assert_stderr_empty

check "untrusted chain on 465 and 587 is CRITICAL (mail clients refuse it)"
run smtp_tls -H mx1.mailmon.test -4 -p 465,587 --ca-file "$other_ca"
assert_rc 2
assert_first_line_re "SMTP_TLS CRITICAL - mx1.mailmon.test ports 465,587: 127.25.0.1:465 certificate not verified: unable to get local issuer certificate \(and 1 more endpoint\) \| .*"
assert_stdout_contains "[CRITICAL] 127.25.0.1:587 starttls: certificate not verified"

check "--verify none and --verify strict"
run smtp_tls -H mx1.mailmon.test -4 -p 465 --ca-file "$other_ca" --verify none
assert_rc 0
run smtp_tls -H mx1.mailmon.test -4 -p 25 --ca-file "$other_ca" --verify strict
assert_rc 2

check "a name the certificate does not carry (--sni)"
run smtp_tls -H 127.25.0.1 -p 465 --sni other.mailmon.test --ca-file "$MAILMON_CA_FILE"
assert_rc 2
assert_first_line_re "SMTP_TLS CRITICAL - 127.25.0.1 port 465: 127.25.0.1:465 certificate not verified: hostname mismatch \| .*"

check "an address without --sni sends no SNI and checks the address"
run smtp_tls -H 127.25.0.1 -p 465 --ca-file "$MAILMON_CA_FILE"
assert_rc 2
assert_stdout_contains "certificate not verified: IP address mismatch"

check "implicit TLS against the real STARTTLS port 25: plain text on an implicit-TLS port"
run smtp_tls -H mx1.mailmon.test -4 -p 25 --mode 25:tls --ca-file "$MAILMON_CA_FILE"
expect 2 "SMTP_TLS CRITICAL - mx1.mailmon.test port 25: 127.25.0.1:25 plain text on an implicit-TLS port: the server sent '220 mx1.mailmon.test ESMTP mailmon sandbox' (use --mode 25:starttls if it is a STARTTLS port) | 127.25.0.1_25_connect=Xs;;;0 127.25.0.1_25_handshake=Xs;;;0 127.25.0.1_25_total=Xs;;;0
[CRITICAL] 127.25.0.1:25 tls: plain text on an implicit-TLS port: the server sent '220 mx1.mailmon.test ESMTP mailmon sandbox' (use --mode 25:starttls if it is a STARTTLS port); no TLS; connect Xs handshake Xs total Xs"

check "STARTTLS against the real implicit-TLS port 465: no banner before the deadline"
run smtp_tls -H mx1.mailmon.test -4 -p 465 --mode 465:starttls -t 3
assert_rc 2
assert_first_line_re "SMTP_TLS CRITICAL - mx1.mailmon.test port 465: 127.25.0.1:465 no banner: timed out \| .*"
assert_faster_than 3000

check "plain mode and AUTH before TLS on 587 (Postfix offers no AUTH: OK)"
run smtp_tls -H mx1.mailmon.test -4 -p 587 --mode 587:plain
assert_rc 0
assert_stdout_contains "[OK] 127.25.0.1:587 plain: no TLS (plain);"

check "time thresholds: -c on the total, a per-phase range, both in the perfdata"
run smtp_tls -H mx1.mailmon.test -4 --ca-file "$MAILMON_CA_FILE" -w 30 -c 0.000001 --warning-handshake 0.000001
assert_rc 2
assert_first_line_re "SMTP_TLS CRITICAL - mx1.mailmon.test port 25: 127.25.0.1:25 total [0-9.]+s outside its range \| .* 127.25.0.1_25_handshake=[0-9.]+s;0.000001;;0 127.25.0.1_25_total=[0-9.]+s;30;0.000001;0"
assert_stdout_contains "; handshake "
assert_stdout_contains "s outside its range; TLSv1.3"

check "JSON output"
run smtp_tls -H 127.25.0.99 --output json
assert_rc 2
assert_first_line_re '\{"name":"SMTP_TLS","state":"CRITICAL","exit_code":2,"summary":"127.25.0.99 port 25: 127.25.0.99:25 cannot connect: connection refused",.*'

check "connection refused"
run smtp_tls -H 127.25.0.99 -p 25,587
assert_rc 2
assert_first_line_re "SMTP_TLS CRITICAL - 127.25.0.99 ports 25,587: 127.25.0.99:25 cannot connect: connection refused \(and 1 more endpoint\) \| .*"

check "host name that does not exist"
run smtp_tls -H nonexistent.mailmon.test
expect 2 "SMTP_TLS CRITICAL - nonexistent.mailmon.test: no address (A nxdomain, AAAA nxdomain)"

check "IPv6-only host under -4"
run smtp_tls -H mx6.mailmon.test -4
expect 2 "SMTP_TLS CRITICAL - mx6.mailmon.test: no address (A nodata)"

check "a silent resolver is UNKNOWN"
start_silent_udp "$MAILMON_DNS_SILENT" 53
arm_cleanup
run "$plugin" --dns-server "$MAILMON_DNS_SILENT" -H mx1.mailmon.test -t 3
assert_rc 3
assert_first_line "SMTP_TLS UNKNOWN - mx1.mailmon.test: no address (A timeout, AAAA timeout (our resolver did not answer))"
assert_faster_than 3000

check "DANE: validated TLSA (3 1 1 and 2 1 1) on 25 and 465"
run smtp_tls -H mx1.signed.test -4 -p 25,465 --dane --ca-file "$other_ca"
assert_rc 0
assert_stdout_contains "[OK] 127.25.0.1:25 starttls: TLSv1.3 TLS_AES_256_GCM_SHA384 x25519, verified by DANE (TLSA matched at depth 0);"
assert_stdout_contains "[OK] 127.25.0.1:465 tls: TLSv1.3 TLS_AES_256_GCM_SHA384 x25519, verified by DANE"

check "DANE: no TLSA in an unsigned zone; --require-dane makes it CRITICAL"
run smtp_tls -H mx1.mailmon.test -4 --dane --ca-file "$MAILMON_CA_FILE"
assert_rc 0
assert_stdout_contains "certificate verified, DANE: no TLSA;"
run smtp_tls -H mx1.mailmon.test -4 --require-dane --ca-file "$MAILMON_CA_FILE"
assert_rc 2
assert_first_line_re "SMTP_TLS CRITICAL - mx1.mailmon.test port 25: 127.25.0.1:25 no TLSA record \(--require-dane\) \| .*"

check "DANE: a validated TLSA that matches nothing is CRITICAL"
run smtp_tls -H nomatch.signed.test -4 --dane --ca-file "$MAILMON_CA_FILE"
assert_rc 2
assert_first_line_re "SMTP_TLS CRITICAL - nomatch.signed.test port 25: 127.25.0.30:25 DANE: no validated TLSA record matches .*"

check "DANE: a TLSA record in an unsigned zone is ignored, not failed"
run smtp_tls -H dane.mailmon.test -4 --dane --ca-file "$MAILMON_CA_FILE"
assert_rc 0
assert_stdout_contains "certificate verified, DANE: TLSA unsigned, ignored;"

# The second real MTA (Exim 4.96 with GnuTLS), when the sandbox runs it.
if [[ -n ${MAILMON_MX4:-} ]]; then
    check "Exim: three ports by name, AUTH offered before TLS on 587 is WARNING"
    run smtp_tls -H mx4.mailmon.test -p 25,465,587 --ca-file "$MAILMON_CA_FILE"
    assert_rc 1
    assert_first_line_re "SMTP_TLS WARNING - mx4.mailmon.test ports 25,465,587: 127.25.0.4:587 AUTH offered before TLS \| .*"
    assert_stdout_contains "[OK] 127.25.0.4:25 starttls: TLSv1.3 TLS_AES_256_GCM_SHA384 x25519, certificate verified;"
    assert_stdout_contains "[OK] 127.25.0.4:465 tls: TLSv1.3"
    assert_stdout_contains "[WARNING] 127.25.0.4:587 starttls: AUTH offered before TLS; TLSv1.3"
    assert_stdout_contains "EHLO before TLS: 8BITMIME AUTH=PLAIN CHUNKING"
    assert_stderr_empty

    check "Exim: implicit TLS against its STARTTLS port names the mistake"
    run smtp_tls -H mx4.mailmon.test -p 587 --mode 587:tls --ca-file "$MAILMON_CA_FILE"
    assert_rc 2
    assert_first_line_re "SMTP_TLS CRITICAL - mx4.mailmon.test port 587: 127.25.0.4:587 plain text on an implicit-TLS port: the server sent '220 mx4.mailmon.test ESMTP Exim mailmon sandbox' .*"
else
    echo "skip: Exim cases (the sandbox runs no Exim; scripts/install-deps.sh unpacks it)"
fi

check "an unreadable CA file is UNKNOWN (our configuration, not the server)"
run smtp_tls -H mx1.mailmon.test -4 --ca-file /dev/null
assert_rc 3
assert_first_line_re "SMTP_TLS UNKNOWN - mx1.mailmon.test port 25: 127.25.0.1:25 TLS handshake failed: cannot load trust store /dev/null: no certificate or crl found \| .*"

check "bad options are UNKNOWN"
run smtp_tls -H mx1.mailmon.test -p 25,
assert_rc 3
assert_first_line "SMTP_TLS UNKNOWN - invalid port '': use a number from 1 to 65535"
run smtp_tls -H mx1.mailmon.test --mode 465:tls
assert_rc 3
run smtp_tls -H 127.25.0.1 --dane
assert_rc 3

# Fault peers: one address each, so the cases do not depend on each other.
check "tarpit: silent after connect"
start_tarpit 127.25.0.70 25
arm_cleanup
run smtp_tls -H 127.25.0.70 -t 3
expect 2 "SMTP_TLS CRITICAL - 127.25.0.70 port 25: 127.25.0.70:25 no banner: timed out | 127.25.0.70_25_connect=Xs;;;0 127.25.0.70_25_banner=Xs;;;0 127.25.0.70_25_total=Xs;;;0
[CRITICAL] 127.25.0.70:25 starttls: no banner: timed out; no TLS; connect Xs banner Xs total Xs"
assert_faster_than 3000

check "banner dribbled one byte a second: the deadline fires, not a per-read timeout"
start_fault_peer dribble 127.25.0.71 25
run smtp_tls -H 127.25.0.71 -t 3
assert_rc 2
assert_first_line_re "SMTP_TLS CRITICAL - 127.25.0.71 port 25: 127.25.0.71:25 no banner: timed out \| .*"
assert_faster_than 3000

check "554 greeting"
start_fault_peer greeting-554 127.25.0.72 25
run smtp_tls -H 127.25.0.72
expect 2 "SMTP_TLS CRITICAL - 127.25.0.72 port 25: 127.25.0.72:25 greeting refused: 554 '5.7.1 fault.test no service for you' | 127.25.0.72_25_connect=Xs;;;0 127.25.0.72_25_banner=Xs;;;0 127.25.0.72_25_total=Xs;;;0
[CRITICAL] 127.25.0.72:25 starttls: greeting refused: 554 '5.7.1 fault.test no service for you'; no TLS; connect Xs banner Xs total Xs"

check "STARTTLS not offered"
start_fault_peer no-starttls 127.25.0.73 587
run smtp_tls -H 127.25.0.73 -p 587
expect 2 "SMTP_TLS CRITICAL - 127.25.0.73 port 587: 127.25.0.73:587 STARTTLS not offered | 127.25.0.73_587_connect=Xs;;;0 127.25.0.73_587_banner=Xs;;;0 127.25.0.73_587_ehlo=Xs;;;0 127.25.0.73_587_starttls=Xs;;;0 127.25.0.73_587_total=Xs;;;0
[CRITICAL] 127.25.0.73:587 starttls: STARTTLS not offered; no TLS; connect Xs banner Xs ehlo Xs starttls Xs total Xs; EHLO: 8BITMIME PIPELINING"

check "454 to STARTTLS"
start_fault_peer starttls-454 127.25.0.74 25
run smtp_tls -H 127.25.0.74
assert_rc 2
assert_first_line_re "SMTP_TLS CRITICAL - 127.25.0.74 port 25: 127.25.0.74:25 STARTTLS refused: 454 '4.7.0 TLS not available due to local problem' \| .*"
assert_stderr_empty

check "handshake aborted by the server with a fatal alert"
start_fault_peer abort-handshake 127.25.0.75 25
run smtp_tls -H 127.25.0.75
assert_rc 2
assert_first_line_re "SMTP_TLS CRITICAL - 127.25.0.75 port 25: 127.25.0.75:25 TLS handshake failed: sslv3 alert handshake failure \| .*"
assert_stderr_empty

check "silent after the 220 to STARTTLS: no handshake before the deadline"
start_fault_peer handshake-silent 127.25.0.75 587
run smtp_tls -H 127.25.0.75 -p 587 -t 3
assert_rc 2
assert_first_line_re "SMTP_TLS CRITICAL - 127.25.0.75 port 587: 127.25.0.75:587 no TLS handshake: timed out \| .*"
assert_faster_than 3000

check "plain text on port 465"
start_fault_peer plaintext 127.25.0.76 465
run smtp_tls -H 127.25.0.76 -p 465
assert_rc 2
assert_first_line_re "SMTP_TLS CRITICAL - 127.25.0.76 port 465: 127.25.0.76:465 plain text on an implicit-TLS port: the server sent '220 fault.test ESMTP fault peer' \(use --mode 465:starttls if it is a STARTTLS port\) \| .*"

check "TLS on a STARTTLS port"
start_fault_peer tls-at-once 127.25.0.77 25
run smtp_tls -H 127.25.0.77
assert_rc 2
assert_first_line_re "SMTP_TLS CRITICAL - 127.25.0.77 port 25: 127.25.0.77:25 TLS on a starttls port: the server sent TLS before any banner \(use --mode 25:tls if it is an implicit-TLS port\) \| .*"

check "a 2 MiB line in the banner and in the EHLO reply; peak memory stays small"
start_fault_peer long-banner 127.25.0.78 25
start_fault_peer long-ehlo 127.25.0.78 587
run smtp_tls -H 127.25.0.78 -p 25,587
assert_rc 2
assert_stdout_contains "[CRITICAL] 127.25.0.78:25 starttls: bad banner: reply line longer than 4096 octets;"
assert_stdout_contains "[CRITICAL] 127.25.0.78:587 starttls: EHLO failed: reply line longer than 4096 octets;"
assert_stderr_empty
# Each long line against a peer that fails at the same step with a short line: buffering the
# 2 MiB would show as megabytes more. Relative, so it holds under ASan's shadow memory too.
assert_peak_near()
{
    local peak baseline
    peak=$(peak_kib -H "$1" -p "$3")
    baseline=$(peak_kib -H "$2" -p "$3")
    if ((peak < baseline + 1024)); then
        pass "peak RSS ${peak} KiB within 1 MiB of ${baseline} KiB"
    else
        fail "peak RSS within 1 MiB of the short-line run" "< $((baseline + 1024))" "$peak"
    fi
}
assert_peak_near 127.25.0.78 127.25.0.72 25
assert_peak_near 127.25.0.78 127.25.0.73 587

check "'|' and control bytes in banner and EHLO are sanitised"
start_fault_peer control-bytes 127.25.0.79 25
run smtp_tls -H 127.25.0.79 --mode 25:plain --expect Postfix
expect 1 "SMTP_TLS WARNING - 127.25.0.79 port 25: 127.25.0.79:25 banner lacks 'Postfix': 'fault/test ??[31mred?[0m ESMTP' | 127.25.0.79_25_connect=Xs;;;0 127.25.0.79_25_banner=Xs;;;0 127.25.0.79_25_ehlo=Xs;;;0 127.25.0.79_25_total=Xs;;;0
[WARNING] 127.25.0.79:25 plain: banner lacks 'Postfix': 'fault/test ??[31mred?[0m ESMTP'; no TLS (plain); connect Xs banner Xs ehlo Xs total Xs; EHLO: 8BITMIME AUTH=PLAIN/LOGIN?[2J"
if [[ $RUN_STDOUT == *[$'\x01'-$'\x09'$'\x0b'-$'\x1f']* ]]; then
    fail "no control bytes" "" "$RUN_STDOUT"
else
    pass "no control bytes"
fi

finish
