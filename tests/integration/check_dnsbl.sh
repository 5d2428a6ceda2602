#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# check_dnsbl against the sandbox's rbldnsd through Unbound: listings and thresholds, per-zone
# severity and code filters, zone errors, dead and silent zones, the RFC 5782 self-test, IPv6
# and domain lists, host and MX targets, allowlist mode, our own resolver's silence, usage.
set -uo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"
sandbox_env

# Exported: run executes the dnsbl function in a child bash.
export plugin=${MAILMON_PLUGIN_BIN:?}/check_dnsbl
fifty=()
for i in $(seq -w 1 50); do
    fifty+=(--zone "zone$i.bl.test")
done

# check_dnsbl against the sandbox resolver with only the zones given.
dnsbl()
{
    "$plugin" --dns-server "$MAILMON_DNS" --no-default-zones "$@"
}

check "a clean address on 50 zones"
run dnsbl "${fifty[@]}" -H 127.0.0.9
assert_rc 0
assert_first_line_re "DNSBL OK - 127.0.0.9 not listed on any of 50 zones \| listed=0;0;0;0;50 checked=50;;;0 errors=0;;;0 unanswered=0;;;0 time=[0-9.]+s;;;0"
assert_stderr_empty

check "an address on two of 50 zones, with TXT reasons"
run dnsbl "${fifty[@]}" -H 127.0.0.10
assert_rc 2
assert_first_line_re "DNSBL CRITICAL - 127.0.0.10 listed on 2 of 50 zones \(zone01.bl.test, zone02.bl.test\) \| listed=2;0;0;0;50 .*"
assert_stdout_contains "127.0.0.10 listed on zone01.bl.test (127.0.0.3): 'Listed on two zones: 127.0.0.10 sent spam to a test trap'"
assert_stdout_contains "127.0.0.10 listed on zone02.bl.test (127.0.0.3): 'Listed on two zones"

check "an address on five zones: the summary shows five names, +N beyond"
run dnsbl "${fifty[@]}" -H 127.0.0.11 -w 1 -c 6
assert_rc 1
assert_first_line_re "DNSBL WARNING - 127.0.0.11 listed on 5 of 50 zones \(zone01.bl.test, zone02.bl.test, zone03.bl.test, zone04.bl.test, zone05.bl.test\) \| listed=5;0;5;0;50 .*"
run dnsbl "${fifty[@]}" -H 127.0.0.11 -w 1 -c 5
assert_rc 2

check "-w/-c as Nagios ranges"
run dnsbl "${fifty[@]}" -H 127.0.0.10 -w @1: -c @3:
assert_rc 1
assert_first_line_re "DNSBL WARNING - 127.0.0.10 listed on 2 of 50 zones .* \| listed=2;@1:;@3:;0;50 .*"

check "the worst of several targets decides"
run dnsbl "${fifty[@]}" -H 127.0.0.9 -H 127.0.0.11 -H 127.0.0.10 -w 2 -c 5
assert_rc 2
assert_first_line_re "DNSBL CRITICAL - 127.0.0.11 listed on 5 of 50 zones \(zone01.bl.test, zone02.bl.test, zone03.bl.test, zone04.bl.test, zone05.bl.test\); 127.0.0.10 listed on 2 of 50 zones \(zone01.bl.test, zone02.bl.test\); 1 other target not listed \| listed=5;1;4;0;50 .*"

check "a zone marked warning can only warn"
run dnsbl --zone zone01.bl.test,warning --zone zone02.bl.test,warning --zone zone03.bl.test \
    -H 127.0.0.10
assert_rc 1
assert_first_line_re "DNSBL WARNING - 127.0.0.10 listed on 2 of 3 zones .*"

check "a code filter: 127.0.0.3 is not a listing when only 127.0.0.2 counts"
run dnsbl --zone 'zone01.bl.test=127.0.0.2' --zone 'zone02.bl.test=127.0.0.[2..3]' -H 127.0.0.10
assert_rc 2
assert_first_line_re "DNSBL CRITICAL - 127.0.0.10 listed on 1 of 2 zones \(zone02.bl.test\) .*"

check "an error code is a zone error with a hint, never a listing"
run dnsbl --zone zone01.bl.test --zone error.bl.test -H 127.0.0.9
assert_rc 1
assert_first_line_re "DNSBL WARNING - 127.0.0.9 not listed on any of 1 zone; zone problems: error.bl.test \(error\) \| listed=0;0;0;0;1 checked=1;;;0 errors=1;;;0 unanswered=0;;;0 .*"
assert_stdout_contains "zone error on error.bl.test: answered 127.255.255.254: query through a public or open resolver refused (hint: use your own recursive resolver"

check "an answer outside 127.0.0.0/8 is a zone error, never a listing"
run dnsbl --zone zone01.bl.test --zone rewrite.bl.test -H 127.0.0.9
assert_rc 1
assert_first_line_re "DNSBL WARNING - 127.0.0.9 not listed on any of 1 zone; zone problems: rewrite.bl.test \(error\) \| .*"
assert_stdout_contains "zone error on rewrite.bl.test: answered 192.0.2.80, outside 127.0.0.0/8 (hint: the resolver rewrites NXDOMAIN"

check "--max-zone-errors tolerates it"
run dnsbl --zone zone01.bl.test --zone error.bl.test -H 127.0.0.9 --max-zone-errors 1
assert_rc 0
assert_first_line_re "DNSBL OK - 127.0.0.9 not listed on any of 1 zone \| .*"
assert_stdout_contains "zone error on error.bl.test"

check "a dead zone that lists everything is broken and its listing does not count"
run dnsbl --zone zone01.bl.test --zone dead.bl.test -H 127.0.0.9
assert_rc 1
assert_first_line_re "DNSBL WARNING - 127.0.0.9 not listed on any of 1 zone; zone problems: dead.bl.test \(broken\) \| listed=0;0;0;0;1 checked=1;;;0 errors=1;;;0 .*"
assert_stdout_contains "broken zone dead.bl.test: lists 127.0.0.1 (answered 127.0.0.2), which RFC 5782 forbids"

check "a zone without the RFC 5782 test entry is broken (a domain list asked for addresses)"
run dnsbl --zone zone01.bl.test --zone dbl.bl.test -H 127.0.0.10 -w 1 -c 2
assert_rc 1
assert_first_line_re "DNSBL WARNING - 127.0.0.10 listed on 1 of 1 zone \(zone01.bl.test\); zone problems: dbl.bl.test \(broken\) \| .*"
assert_stdout_contains "broken zone dbl.bl.test: does not list the RFC 5782 test entry 127.0.0.2"

check "with no usable zone at all the result is UNKNOWN"
run dnsbl --zone error.bl.test --zone dead.bl.test -H 127.0.0.10
assert_rc 3
assert_first_line_re "DNSBL UNKNOWN - 127.0.0.10 not checked: no usable zone covers it; zone problems: error.bl.test \(error\), dead.bl.test \(broken\) \| .*"

check "the built-in zones are unreachable from the sandbox: broken, never a listing"
run "$plugin" --dns-server "$MAILMON_DNS" -H 127.0.0.2
assert_rc 3
assert_first_line_re "DNSBL UNKNOWN - 127.0.0.2 not checked: no usable zone covers it; zone problems: zen.spamhaus.org \(broken\), bl.spamcop.net \(broken\), .*"

check "a zone whose server never answers is unanswered, reported before -t"
start_silent_udp "$MAILMON_DNS_SILENT" 53
run dnsbl "${fifty[@]}" --zone silent.bl.test -H 127.0.0.10 -t 4
assert_rc 2
assert_first_line_re "DNSBL CRITICAL - 127.0.0.10 listed on 2 of 50 zones \(zone01.bl.test, zone02.bl.test\); zone problems: silent.bl.test \(no answer\) \| listed=2;0;0;0;50 checked=50;;;0 errors=0;;;0 unanswered=1;;;0 .*"
assert_stdout_contains "no answer from silent.bl.test"
assert_stdout_contains "127.0.0.10 listed on zone01.bl.test (127.0.0.3): 'Listed on two zones"
assert_faster_than 4000
run dnsbl --zone zone01.bl.test --zone silent.bl.test -H 127.0.0.9 -t 4
assert_rc 1

check "our own resolver never answering is UNKNOWN, before -t"
run "$plugin" --dns-server "$MAILMON_DNS_SILENT" --no-default-zones --zone zone01.bl.test \
    -H 127.0.0.10 -t 3
assert_rc 3
assert_first_line_re "DNSBL UNKNOWN - 127.0.0.10 not checked: no usable zone covers it; zone problems: zone01.bl.test \(no answer\) \| .*"
assert_faster_than 3000

check "a host name that our silent resolver cannot resolve is UNKNOWN, not a listing problem"
run "$plugin" --dns-server "$MAILMON_DNS_SILENT" --no-default-zones --zone zone01.bl.test \
    -H mx1.mailmon.test -t 3
assert_rc 3
assert_first_line_re "DNSBL UNKNOWN - cannot resolve mx1.mailmon.test/A: .*"
stop_peers

check "a resolver address where nothing listens is UNKNOWN too"
run "$plugin" --dns-server 127.53.0.9 --no-default-zones --zone zone01.bl.test \
    -H mx1.mailmon.test -t 3
assert_rc 3
assert_first_line_re "DNSBL UNKNOWN - cannot resolve mx1.mailmon.test/A: server unreachable.*"

check "an IPv6 list in nibble form"
run dnsbl --zone ipv6.bl.test,ipv6-only -H ::FFFF:7F00:2
assert_rc 2
assert_first_line_re "DNSBL CRITICAL - ::FFFF:7F00:2 listed on 1 of 1 zone \(ipv6.bl.test\) .*"
run dnsbl --zone ipv6.bl.test,ipv6-only -H 2001:db8::25
assert_rc 0

check "a host name: all its addresses, each on the lists of its family"
run dnsbl "${fifty[@]}" --zone ipv6.bl.test,ipv6-only -H mx1.mailmon.test
assert_rc 0
assert_first_line_re "DNSBL OK - 127.25.0.1 \(mx1.mailmon.test\) not listed on any of 50 zones; 1 other target not listed \| .*"

check "a host name that does not resolve is CRITICAL"
run dnsbl "${fifty[@]}" -H nonexistent.mailmon.test
assert_rc 2
assert_first_line_re "DNSBL CRITICAL - cannot resolve nonexistent.mailmon.test/A: .*"

check "a domain: the domain on domain lists, every MX address on IP lists"
run dnsbl "${fifty[@]}" --domain-zone dbl.bl.test --domain good.mailmon.test -w 1 -c 2
assert_rc 1
assert_first_line_re "DNSBL WARNING - good.mailmon.test listed on 1 of 1 zone \(dbl.bl.test\); 127.25.0.2 \(mx2.mailmon.test\) listed on 1 of 50 zones \(zone10.bl.test\); 2 other targets not listed \| listed=1;0;1;0;50 .*"
assert_stdout_contains "fd6d:6d6d::25:1 (mx1.mailmon.test) not checked: no zone of this run serves it"
assert_stdout_contains "good.mailmon.test listed on dbl.bl.test (127.0.1.4): 'Listed: good.mailmon.test is a test phishing domain'"
assert_stdout_contains "127.25.0.2 (mx2.mailmon.test) listed on zone10.bl.test (127.0.0.2): 'Listed: 127.25.0.2 sent spam to a test trap'"

check "a domain list passes its TEST/INVALID self-test"
run dnsbl --domain-zone dbl.bl.test --domain nullmx.mailmon.test
assert_rc 0
assert_first_line_re "DNSBL OK - nullmx.mailmon.test not listed on any of 1 zone \| .*"

check "allowlist mode: being listed is the good outcome"
run dnsbl --allowlist --zone zone01.bl.test -H 127.0.0.10
assert_rc 0
assert_first_line_re "DNSBL OK - 127.0.0.10 listed on 1 of 1 allowlist \(zone01.bl.test\) \| .*"
run dnsbl --allowlist --zone zone01.bl.test -H 127.0.0.9
assert_rc 1
assert_first_line_re "DNSBL WARNING - 127.0.0.9 not listed on any of 1 allowlist \| listed=0;1:;;0;1 .*"

check "a zones file"
zones_file=$(mktemp)
printf '# test zones\nip zone01.bl.test\nip zone02.bl.test,warning\ndomain dbl.bl.test\n' \
    >"$zones_file"
run "$plugin" --dns-server "$MAILMON_DNS" --no-default-zones --zones-file "$zones_file" \
    -H 127.0.0.10 -c 2
assert_rc 1
assert_first_line_re "DNSBL WARNING - 127.0.0.10 listed on 2 of 2 zones .*"
rm -f "$zones_file"

check "-v writes diagnostics to stderr only"
run dnsbl --zone zone01.bl.test -H 127.0.0.10 -v
assert_rc 2
if [[ $RUN_STDERR == *"step=dnsbl queries=3 txt=1"* ]]; then
    pass "stderr has the step line"
else
    fail "stderr has the step line" "step=dnsbl queries=3 txt=1 ..." "$RUN_STDERR"
fi

check "--list-zones prints the catalogue with its date"
run "$plugin" --list-zones
assert_rc 3
assert_first_line "Built-in zones, checked 2026-12 (* = checked by default):"
assert_stdout_contains "* zen.spamhaus.org "

check "--output=json"
run dnsbl --zone zone01.bl.test -H 127.0.0.10 --output=json
assert_rc 2
assert_stdout_contains '"state":"CRITICAL"'

check "usage errors exit 3"
for args in "--zone zone01.bl.test" \
    "-H 127.0.0.2 --zone zone01.bl.test=127.0.0.[2..]" \
    "-H 127.0.0.2 --zone dbl.spamhaus.org" \
    "-H 127.0.0.2 --zone zone01.bl.test,loud" \
    "-H 127.0.0.2 --zone zone01.bl.test -c 0" \
    "-H 127.0.0.2 --zones-file /nonexistent" \
    "-H 127.0.0.2 --zone zone01.bl.test --tries 0"; do
    # shellcheck disable=SC2086 # the cases are word lists
    run dnsbl $args
    assert_rc 3
done
run dnsbl --zone zone01.bl.test
assert_stdout_contains "give -H or --domain"

finish
