#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# check_mail_cert against the sandbox's real Postfix endpoints, each serving a certificate
# variant made at start (tests/sandbox/cert-variants.sh), and the DNSSEC-signed zone with TLSA
# records through the validating Unbound. Every case asserts the exit code and the reason.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
sandbox_env

export plugin=$MAILMON_PLUGIN_BIN/check_mail_cert
if [[ ! -f $MAILMON_SANDBOX_DIR/state/variants ]]; then
    echo "FAIL: the sandbox runs without the certificate variants (mailmon-testcert)"
    exit 1
fi

# cert HOST [ARGS...]: the plugin on HOST through the sandbox resolver and test CA, IPv4 only.
cert()
{
    "$plugin" -H "$1" --dns-server "$MAILMON_DNS" --ca-file "$MAILMON_CA_FILE" -4 -t 10 "${@:2}"
}

# The numbers in a line: days with one decimal, dates and fingerprints vary from run to run.
# The "10 days" certificate shows 10 (one decimal) or 9.9x (perfdata, two) an hour after start.
days='-?[0-9]+(\.[0-9])?'
ten='(10|9\.9)'
ten_perf='(10|9\.9[0-9])'
date='[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8} UTC'

check "valid chain on three ports"
run cert mx1.mailmon.test -p 25,465,587
assert_rc 0
expected="MAIL_CERT OK - 3 endpoints fine; soonest expiry in $days days at mx1\.mailmon\.test "
expected+="127\.25\.0\.1:25 \| .*"
assert_first_line_re "$expected"
assert_stdout_contains "verification: verified, DANE: no TLSA records, OCSP: no staple"
assert_stdout_contains "'chain_days_left_mx1.mailmon.test_127.25.0.1:587'="
assert_stderr_empty

check "IPv6 endpoint"
run "$plugin" -H mx1.mailmon.test -6 --dns-server "$MAILMON_DNS" --ca-file "$MAILMON_CA_FILE"
assert_rc 0
expected="MAIL_CERT OK - 1 endpoint fine; soonest expiry in $days days at mx1\.mailmon\.test "
expected+="\[fd6d:6d6d::25:1\]:25 \| 'cert_days_left_mx1\.mailmon\.test_\[fd6d:6d6d::25:1\]:25'=.*"
assert_first_line_re "$expected"

check "JSON output"
run cert expired.mailmon.test --output json
assert_rc 2
expected='{"name":"MAIL_CERT","state":"CRITICAL","exit_code":2,"summary":"expired.mailmon.test '
expected+='127.25.0.11:25: leaf expired (+1 more); soonest expiry: expired 2 days ago at '
assert_stdout_contains "$expected"

check "expired leaf"
run cert expired.mailmon.test
assert_rc 2
expected="MAIL_CERT CRITICAL - expired\.mailmon\.test 127\.25\.0\.11:25: leaf expired \(\+1 "
expected+="more\); soonest expiry: expired 2 days ago at .*"
assert_first_line_re "$expected"
assert_stdout_contains "certificate expired 2 days ago ("

check "expiring in 10 days: -w 21 -c 7 is WARNING"
run cert expiring.mailmon.test
assert_rc 1
expected="MAIL_CERT WARNING - expiring\.mailmon\.test 127\.25\.0\.12:25: certificate expires in "
expected+="$ten days \($date\); soonest expiry in $ten days at .*"
assert_first_line_re "$expected"

check "expiring in 10 days: -c 12 is CRITICAL"
run cert expiring.mailmon.test -c 12
assert_rc 2
expected="MAIL_CERT CRITICAL - expiring\.mailmon\.test 127\.25\.0\.12:25: certificate expires in "
expected+="$ten days .*;12: .*"
assert_first_line_re "$expected"

check "expiring in 10 days: -w 5.5 -c 3 is OK"
run cert expiring.mailmon.test -w 5.5 -c 3
assert_rc 0
expected="MAIL_CERT OK - 1 endpoint fine; soonest expiry in $ten days at .*=$ten_perf;5\.5:;3: .*"
assert_first_line_re "$expected"

check "not yet valid"
run cert future.mailmon.test
assert_rc 2
expected="MAIL_CERT CRITICAL - future\.mailmon\.test 127\.25\.0\.13:25: leaf not yet valid; .*"
assert_first_line_re "$expected"

check "self-signed"
run cert selfsigned.mailmon.test
assert_rc 2
expected="MAIL_CERT CRITICAL - selfsigned\.mailmon\.test 127\.25\.0\.14:25: self-signed "
expected+="certificate; .*"
assert_first_line_re "$expected"

check "wrong name"
run cert wrongname.mailmon.test
assert_rc 2
expected="MAIL_CERT CRITICAL - wrongname\.mailmon\.test 127\.25\.0\.15:25: name mismatch: "
expected+="'wrongname\.mailmon\.test' not in 'other\.example\.org'; .*"
assert_first_line_re "$expected"

check "--name picks the name to match"
run cert wrongname.mailmon.test --name other.example.org
assert_rc 0

check "an address without --name checks no name"
run cert 127.25.0.15
assert_rc 0
assert_stdout_contains "DANE: not looked up (no host name)"

check "leaf without its intermediate"
run cert nochain.mailmon.test
assert_rc 2
expected="MAIL_CERT CRITICAL - nochain\.mailmon\.test 127\.25\.0\.16:25: missing intermediate: "
expected+="issuer 'CN=mailmon sandbox intermediate CA' of the leaf was not sent and is not "
expected+="trusted; .*"
assert_first_line_re "$expected"

check "1024-bit RSA"
run cert rsa1024.mailmon.test
assert_rc 1
expected="MAIL_CERT WARNING - rsa1024\.mailmon\.test 127\.25\.0\.17:25: leaf key RSA 1024 is weak "
expected+="\(minimum 2048 bits\); .*"
assert_first_line_re "$expected"

check "1024-bit RSA with --min-rsa-bits 1024"
run cert rsa1024.mailmon.test --min-rsa-bits 1024
assert_rc 0

check "SHA-1 signature"
run cert sha1.mailmon.test
assert_rc 2
expected="MAIL_CERT CRITICAL - sha1\.mailmon\.test 127\.25\.0\.18:25: leaf signed with a weak "
expected+="digest \(ecdsa-with-SHA1\); .*"
assert_first_line_re "$expected"

check "CA not trusted"
run cert untrusted.mailmon.test
assert_rc 2
expected="MAIL_CERT CRITICAL - untrusted\.mailmon\.test 127\.25\.0\.19:25: untrusted root: issuer "
expected+="'CN=mailmon sandbox untrusted root CA,O=mailmon test' is not in the trust store; .*"
assert_first_line_re "$expected"

check "system store does not trust the sandbox CA"
run "$plugin" -H mx1.mailmon.test --dns-server "$MAILMON_DNS" -4
assert_rc 2
expected="MAIL_CERT CRITICAL - mx1\.mailmon\.test 127\.25\.0\.1:25: untrusted root: issuer "
expected+="'CN=mailmon sandbox root CA' is not in the trust store; .*"
assert_first_line_re "$expected"

check "two endpoints of one name serve different certificates"
run cert fleet.mailmon.test
assert_rc 1
expected="MAIL_CERT WARNING - 'fleet\.mailmon\.test' is served with different certificates: "
expected+="127\.25\.0\.2[01]:25 until $date \([0-9A-F:]{11}\); 127\.25\.0\.2[01]:25 until $date "
expected+="\([0-9A-F:]{11}\); soonest expiry in 150 days at fleet\.mailmon\.test 127\.25\.0\.21:25 "
expected+="\| .*"
assert_first_line_re "$expected"

check "DANE-EE 3 1 1 matches"
run cert ee.signed.test
assert_rc 0
assert_stdout_contains "DANE: matched TLSA 3 1 1 at depth 0"

check "DANE-TA 2 1 1 matches the intermediate"
run cert ta.signed.test
assert_rc 0
assert_stdout_contains "DANE: matched TLSA 2 1 1 at depth 1"

check "DANE-EE authenticates even when PKIX fails"
run "$plugin" -H ee.signed.test --dns-server "$MAILMON_DNS" -4
assert_rc 0
assert_stdout_contains "(not used: DANE authenticated), DANE: matched TLSA 3 1 1 at depth 0"

check "validated TLSA that matches nothing"
run cert nomatch.signed.test
assert_rc 2
expected="MAIL_CERT CRITICAL - nomatch\.signed\.test 127\.25\.0\.30:25: DANE no TLSA record "
expected+="matches; .*"
assert_first_line_re "$expected"

check "TLSA in an unsigned zone is ignored"
run cert dane.mailmon.test
assert_rc 0
assert_stdout_contains "DANE: TLSA in an unsigned zone, ignored"

check "--require-dane without usable TLSA"
run cert dane.mailmon.test --require-dane
assert_rc 1
expected="MAIL_CERT WARNING - dane\.mailmon\.test 127\.25\.0\.30:25: DANE required: TLSA in an "
expected+="unsigned zone, ignored; .*"
assert_first_line_re "$expected"

check "--require-dane satisfied"
run cert ee.signed.test --require-dane
assert_rc 0

check "every MX of a domain"
run "$plugin" --domain good.mailmon.test --dns-server "$MAILMON_DNS" --ca-file "$MAILMON_CA_FILE" -4
assert_rc 0
assert_first_line_re "MAIL_CERT OK - 3 endpoints fine; .*"
assert_stdout_contains "OK mx3.mailmon.test 127.25.0.3:25: subject 'CN=mx.mailmon.test'"

check "an MX that refuses connections"
run "$plugin" --domain onedown.mailmon.test --dns-server "$MAILMON_DNS" \
    --ca-file "$MAILMON_CA_FILE" -4
assert_rc 2
expected="MAIL_CERT CRITICAL - down1\.mailmon\.test 127\.25\.0\.99:25: cannot connect to "
expected+="127\.25\.0\.99:25: connection refused; .*"
assert_first_line_re "$expected"

check "a host name that does not exist"
run cert nonexistent.mailmon.test
assert_rc 2
assert_first_line_re "MAIL_CERT CRITICAL - cannot resolve 'nonexistent\.mailmon\.test': .*"

check "a null MX"
run "$plugin" --domain nullmx.mailmon.test --dns-server "$MAILMON_DNS" -4
assert_rc 3
expected="MAIL_CERT UNKNOWN - 'nullmx.mailmon.test' has a null MX (RFC 7505): no mail servers to "
expected+="check"
assert_first_line "$expected"

check "a server that never speaks is CRITICAL before -t"
start_tarpit "$MAILMON_TARPIT" 25
run "$plugin" -H "$MAILMON_TARPIT" -t 3
stop_peers
assert_rc 2
assert_first_line_re "MAIL_CERT CRITICAL - 127\.25\.0\.66:25: cannot .*timed out"
assert_faster_than 3500

check "a refused connection is CRITICAL"
run "$plugin" -H 127.25.0.99
assert_rc 2
expected="MAIL_CERT CRITICAL - 127.25.0.99:25: cannot connect to 127.25.0.99:25: connection "
expected+="refused"
assert_first_line "$expected"

check "bad options are UNKNOWN"
run "$plugin" -H mx1.mailmon.test -p 0
assert_rc 3
run "$plugin" -w 21
assert_rc 3

finish
