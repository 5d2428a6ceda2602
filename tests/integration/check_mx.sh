#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# check_mx against the sandbox: one case per scenario of its issue (healthy, one and all MX
# down, implicit and null MX, CNAME, address-less and NXDOMAIN targets, NXDOMAIN domain,
# SERVFAIL, a silent resolver, a tarpit MTA, IPv6, DNSSEC), each with its golden stdout (timings
# replaced by "Xs"), exit code and empty stderr.
set -uo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"
sandbox_env

export plugin="$MAILMON_PLUGIN_BIN/check_mx"
mx()
{
    "$plugin" --dns-server "$MAILMON_DNS" "$@"
}

check "healthy domain, three MX on different addresses"
run mx -H good.mailmon.test
expect 0 "MX OK - good.mailmon.test: 3/3 MX up | mx_count=3;;;0 mx_up=3;;;0;3 dns_time=Xs;;;0 banner_mx1.mailmon.test=Xs;;;0 banner_mx2.mailmon.test=Xs;;;0 banner_mx3.mailmon.test=Xs;;;0
[OK] DNS good.mailmon.test: DNSSEC not validated (no AD), lookups Xs
[OK] mx1.mailmon.test (pref 10): accepts, 2/2 addresses up
    [OK] 127.25.0.1: up, connect Xs, banner Xs, total Xs
    [OK] fd6d:6d6d::25:1: up, connect Xs, banner Xs, total Xs
[OK] mx2.mailmon.test (pref 20): accepts, 1/1 addresses up
    [OK] 127.25.0.2: up, connect Xs, banner Xs, total Xs
[OK] mx3.mailmon.test (pref 30): accepts, 1/1 addresses up
    [OK] 127.25.0.3: up, connect Xs, banner Xs, total Xs"

check "-D is an alias of -H"
run mx -D good.mailmon.test
assert_rc 0
assert_first_line_re 'MX OK - good\.mailmon\.test: 3/3 MX up \| .*'

check "one MX down"
run mx -H onedown.mailmon.test
expect 1 "MX WARNING - onedown.mailmon.test: 1/2 MX up; down1.mailmon.test: 127.25.0.99 down: connect: connection refused | mx_count=2;;;0 mx_up=1;;;0;2 dns_time=Xs;;;0 banner_mx1.mailmon.test=Xs;;;0
[OK] DNS onedown.mailmon.test: DNSSEC not validated (no AD), lookups Xs
[OK] mx1.mailmon.test (pref 10): accepts, 2/2 addresses up
    [OK] 127.25.0.1: up, connect Xs, banner Xs, total Xs
    [OK] fd6d:6d6d::25:1: up, connect Xs, banner Xs, total Xs
[CRITICAL] down1.mailmon.test (pref 20): does not accept, 0/1 addresses up
    [CRITICAL] 127.25.0.99: down: connect: connection refused, connect Xs, total Xs"

check "all MX down"
run mx -H alldown.mailmon.test
expect 2 "MX CRITICAL - alldown.mailmon.test: 0/2 MX up; down1.mailmon.test: 127.25.0.99 down: connect: connection refused (+1 more) | mx_count=2;;;0 mx_up=0;;;0;2 dns_time=Xs;;;0
[OK] DNS alldown.mailmon.test: DNSSEC not validated (no AD), lookups Xs
[CRITICAL] down1.mailmon.test (pref 10): does not accept, 0/1 addresses up
    [CRITICAL] 127.25.0.99: down: connect: connection refused, connect Xs, total Xs
[CRITICAL] down2.mailmon.test (pref 20): does not accept, 0/1 addresses up
    [CRITICAL] 127.25.0.98: down: connect: connection refused, connect Xs, total Xs"

check "implicit MX (RFC 5321 5.1)"
run mx -H implicit.mailmon.test
expect 1 "MX WARNING - implicit.mailmon.test: 1/1 MX up; no MX record; mail falls back to the domain's address | mx_count=1;;;0 mx_up=1;;;0;1 dns_time=Xs;;;0 banner_implicit.mailmon.test=Xs;;;0
[OK] DNS implicit.mailmon.test: DNSSEC not validated (no AD), lookups Xs
[OK] implicit.mailmon.test (implicit MX): accepts, 1/1 addresses up
    [OK] 127.25.0.1: up, connect Xs, banner Xs, total Xs"

check "null MX (RFC 7505)"
run mx -H nullmx.mailmon.test
expect 0 "MX OK - nullmx.mailmon.test: domain accepts no mail (null MX) | mx_count=0;;;0 mx_up=0;;;0;0 dns_time=Xs;;;0
[OK] DNS nullmx.mailmon.test: DNSSEC not validated (no AD), lookups Xs"

check "null MX when the domain must receive mail"
run mx -H nullmx.mailmon.test --require-mail
assert_rc 2
assert_first_line_re 'MX CRITICAL - nullmx\.mailmon\.test: domain accepts no mail \(null MX\), but it must receive mail \| .*'

check "MX target is a CNAME (RFC 2181 10.3)"
run mx -H cname.mailmon.test
expect 1 "MX WARNING - cname.mailmon.test: 1/1 MX up; mxalias.mailmon.test is an alias (CNAME) of mx1.mailmon.test (RFC 2181 10.3) | mx_count=1;;;0 mx_up=1;;;0;1 dns_time=Xs;;;0 banner_mxalias.mailmon.test=Xs;;;0
[OK] DNS cname.mailmon.test: DNSSEC not validated (no AD), lookups Xs
[WARNING] mxalias.mailmon.test (pref 10): accepts, 2/2 addresses up, alias (CNAME) of mx1.mailmon.test
    [OK] 127.25.0.1: up, connect Xs, banner Xs, total Xs
    [OK] fd6d:6d6d::25:1: up, connect Xs, banner Xs, total Xs"

check "MX target without address"
run mx -H noaddr.mailmon.test
expect 2 "MX CRITICAL - noaddr.mailmon.test: 0/1 MX up; noaddr-host.mailmon.test: exchange has no address record | mx_count=1;;;0 mx_up=0;;;0;1 dns_time=Xs;;;0
[OK] DNS noaddr.mailmon.test: DNSSEC not validated (no AD), lookups Xs
[CRITICAL] noaddr-host.mailmon.test (pref 10): exchange has no address record"

check "MX target is NXDOMAIN"
run mx -H nxtarget.mailmon.test
expect 2 "MX CRITICAL - nxtarget.mailmon.test: 0/1 MX up; nonexistent.mailmon.test: exchange does not exist (NXDOMAIN) | mx_count=1;;;0 mx_up=0;;;0;1 dns_time=Xs;;;0
[OK] DNS nxtarget.mailmon.test: DNSSEC not validated (no AD), lookups Xs
[CRITICAL] nonexistent.mailmon.test (pref 10): exchange does not exist (NXDOMAIN)"

check "domain is NXDOMAIN"
run mx -H nothere.mailmon.test
expect 2 "MX CRITICAL - nothere.mailmon.test: domain does not exist (NXDOMAIN) | mx_count=0;;;0 mx_up=0;;;0;0 dns_time=Xs;;;0
[OK] DNS nothere.mailmon.test: DNSSEC not validated (no AD), lookups Xs"

check "SERVFAIL from a DNSSEC-bogus zone"
run mx -H bogus.test
expect 2 "MX CRITICAL - bogus.test: MX lookup failed with SERVFAIL: validating senders cannot deliver | mx_count=0;;;0 mx_up=0;;;0;0 dns_time=Xs;;;0
[OK] DNS bogus.test: DNSSEC status unknown (no answer), lookups Xs"

check "MX target whose address lookup is SERVFAIL"
run mx -H bogustarget.mailmon.test
expect 2 "MX CRITICAL - bogustarget.mailmon.test: 0/1 MX up; mx1.bogus.test: address lookup failed (SERVFAIL) | mx_count=1;;;0 mx_up=0;;;0;1 dns_time=Xs;;;0
[OK] DNS bogustarget.mailmon.test: DNSSEC not validated (no AD), lookups Xs
[CRITICAL] mx1.bogus.test (pref 10): address lookup failed (SERVFAIL)"

check "a resolver that never answers is UNKNOWN before -t"
start_silent_udp "$MAILMON_DNS_SILENT" 53
run "$plugin" --dns-server "$MAILMON_DNS_SILENT" -H good.mailmon.test -t 4
expect 3 "MX UNKNOWN - good.mailmon.test: resolver did not answer the MX lookup (no answer before the deadline) | mx_count=0;;;0 mx_up=0;;;0;0 dns_time=Xs;;;0
[OK] DNS good.mailmon.test: DNSSEC status unknown (no answer), lookups Xs"
assert_faster_than 3900

check "an MX that accepts TCP and never speaks is CRITICAL before -t"
start_tarpit "$MAILMON_TARPIT" 25
run mx -H tarpit.mailmon.test -t 3
expect 2 "MX CRITICAL - tarpit.mailmon.test: 0/1 MX up; tarpit-host.mailmon.test: 127.25.0.66 down: no banner: timed out | mx_count=1;;;0 mx_up=0;;;0;1 dns_time=Xs;;;0
[OK] DNS tarpit.mailmon.test: DNSSEC not validated (no AD), lookups Xs
[CRITICAL] tarpit-host.mailmon.test (pref 10): does not accept, 0/1 addresses up
    [CRITICAL] 127.25.0.66: down: no banner: timed out, connect Xs, total Xs"
assert_faster_than 2900

check "IPv6-only MX"
run mx -H v6.mailmon.test
expect 0 "MX OK - v6.mailmon.test: 1/1 MX up | mx_count=1;;;0 mx_up=1;;;0;1 dns_time=Xs;;;0 banner_mx6.mailmon.test=Xs;;;0
[OK] DNS v6.mailmon.test: DNSSEC not validated (no AD), lookups Xs
[OK] mx6.mailmon.test (pref 10): accepts, 1/1 addresses up
    [OK] fd6d:6d6d::25:6: up, connect Xs, banner Xs, total Xs"

check "IPv6-only MX with -4"
run mx -H v6.mailmon.test -4
assert_rc 2
assert_first_line_re 'MX CRITICAL - v6\.mailmon\.test: 0/1 MX up; mx6\.mailmon\.test: exchange has no address record \| .*'
assert_stdout_contains "exchange has no address record (no A record, -4 given)"

check "-6 probes IPv6 addresses only"
run mx -H good.mailmon.test -6
assert_rc 1
assert_first_line_re 'MX WARNING - good\.mailmon\.test: 1/3 MX up; mx2\.mailmon\.test: exchange has no address record \(\+1 more\) \| .*'
assert_stdout_contains "    [OK] fd6d:6d6d::25:1: up"

check "DNSSEC-signed zone with --require-dnssec"
run mx -H signed.test --require-dnssec
expect 0 "MX OK - signed.test: 1/1 MX up | mx_count=1;;;0 mx_up=1;;;0;1 dns_time=Xs;;;0 banner_mx1.signed.test=Xs;;;0
[OK] DNS signed.test: DNSSEC validated (AD), lookups Xs
[OK] mx1.signed.test (pref 10): accepts, 2/2 addresses up
    [OK] 127.25.0.1: up, connect Xs, banner Xs, total Xs
    [OK] fd6d:6d6d::25:1: up, connect Xs, banner Xs, total Xs"

check "unsigned zone with --require-dnssec"
run mx -H good.mailmon.test --require-dnssec
assert_rc 1
assert_first_line_re 'MX WARNING - good\.mailmon\.test: 3/3 MX up; MX answer is not DNSSEC-validated \| .*'
assert_stdout_contains "[WARNING] DNS good.mailmon.test: DNSSEC not validated (no AD)"

check "duplicate MX target"
run mx -H dup.mailmon.test
assert_rc 1
assert_first_line_re 'MX WARNING - dup\.mailmon\.test: 2/2 MX up; mx1\.mailmon\.test is listed twice \| .*'
assert_stdout_contains "[WARNING] mx1.mailmon.test (pref 20): accepts, 2/2 addresses up, duplicate MX record"

check "two MX names on one address"
run mx -H dupaddr.mailmon.test
assert_rc 0
assert_stdout_contains "[OK] mx1b.mailmon.test (pref 20): accepts, 1/1 addresses up, shares 127.25.0.1 with mx1.mailmon.test"

check "-vv adds the MX records and banners on stderr"
run mx -H good.mailmon.test -vv
assert_rc 0
if [[ $RUN_STDERR == *"step=banner address=127.25.0.2 reply='220 mx2.mailmon.test ESMTP"* ]]; then
    pass "stderr has the banner of mx2"
else
    fail "stderr has the banner of mx2" "step=banner address=127.25.0.2 reply='220 ..." "$RUN_STDERR"
fi

check "forward-confirmed reverse DNS"
run mx -H good.mailmon.test --check-ptr
assert_rc 1
assert_first_line_re 'MX WARNING - good\.mailmon\.test: 3/3 MX up; mx2\.mailmon\.test 127\.25\.0\.2: PTR does not resolve back \(\+1 more\) \| .*'
assert_stdout_contains "127.25.0.1: up, connect"
assert_stdout_contains "PTR confirmed (mx1.mailmon.test)"
assert_stdout_contains "PTR does not resolve back (wrong.mailmon.test)"
assert_stdout_contains "127.25.0.3: up, connect"
assert_stdout_contains "no PTR record"

check "STARTTLS offered and the handshake succeeds"
run mx -H good.mailmon.test --starttls
assert_rc 0
assert_first_line_re 'MX OK - good\.mailmon\.test: 3/3 MX up \| .*'

check "fewer MX than --min-mx"
run mx -H good.mailmon.test --min-mx 4
assert_rc 1
assert_first_line_re 'MX WARNING - good\.mailmon\.test: 3/3 MX up; 3 MX record\(s\), fewer than the 4 required \| .*'

check "MX set differs from --expect, made CRITICAL"
run mx -H good.mailmon.test --expect mx1.mailmon.test,MX2.mailmon.test. --expect-critical
assert_rc 2
assert_first_line_re 'MX CRITICAL - good\.mailmon\.test: 3/3 MX up; MX set differs from --expect: unexpected mx3\.mailmon\.test \| .*'

check "MX set as expected"
run mx -H good.mailmon.test --expect mx3.mailmon.test,mx1.mailmon.test,mx2.mailmon.test
assert_rc 0

check "banner time thresholds"
run mx -H good.mailmon.test -w 30 -c '~:0'
assert_rc 2
assert_first_line_re 'MX CRITICAL - good\.mailmon\.test: 3/3 MX up; slowest banner took [0-9.]+s \| .*banner_mx1\.mailmon\.test=[0-9.]+s;30;~:0;0 .*'

check "a missing domain is a usage error"
run "$plugin"
assert_rc 3
assert_first_line "MX UNKNOWN - missing -H/--hostname DOMAIN"

check "bad option values are usage errors"
for args in "-H a.test -D b.test" "-H a.test -p 0" "-H a.test --min-mx -1" "-H a.test -w 1x"; do
    # shellcheck disable=SC2086 # one word per option
    run "$plugin" $args
    assert_rc 3
    assert_first_line_re 'MX UNKNOWN - (give the domain once|invalid).*'
done

check "-v writes the steps to stderr"
run mx -H good.mailmon.test -v
assert_rc 0
if [[ $RUN_STDERR == *"step=dns domain=good.mailmon.test targets=3"* ]]; then
    pass "stderr has the DNS step"
else
    fail "stderr has the DNS step" "step=dns domain=good.mailmon.test targets=3 ..." "$RUN_STDERR"
fi

finish
