#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Proves the sandbox serves what the plugin tests rely on: resolution through the validating
# resolver, DNSSEC secure and bogus answers, SMTP greetings on every port, and a DNSBL listing.
set -uo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"
sandbox_env

# The first line of an SMTP greeting on a plain port.
banner()
{
    exec 3<>"/dev/tcp/$1/$2" || return 1
    read -r line <&3
    printf 'QUIT\r\n' >&3
    exec 3<&-
    printf '%s\n' "${line%$'\r'}"
}

# The first line of the greeting after an implicit TLS handshake verified against the test CA.
tls_banner()
{
    printf 'QUIT\r\n' | openssl s_client -quiet -verify_return_error -CAfile "$MAILMON_CA_FILE" \
        -verify_hostname "$3" -connect "$1:$2" 2>/dev/null | head -n 1 | tr -d '\r'
}

check "A of mx1.mailmon.test"
run dig +short +time=2 +tries=1 "@$MAILMON_DNS" mx1.mailmon.test A
assert_rc 0
assert_first_line 127.25.0.1

check "AD flag on signed.test MX"
run dig +ad +time=2 +tries=1 "@$MAILMON_DNS" signed.test MX
assert_stdout_contains "flags: qr rd ra ad;"
assert_stdout_contains "MX	10 mx1.signed.test."

check "no AD flag on unsigned mailmon.test"
run dig +ad +time=2 +tries=1 "@$MAILMON_DNS" good.mailmon.test MX
assert_stdout_contains "flags: qr rd ra;"

check "SERVFAIL for bogus.test"
run dig +time=2 +tries=1 "@$MAILMON_DNS" bogus.test MX
assert_stdout_contains "status: SERVFAIL"

check "names outside the test zones stay local"
run dig +time=2 +tries=1 "@$MAILMON_DNS" example.com A
assert_stdout_contains "status: NXDOMAIN"

check "SMTP banner on 127.25.0.1:25"
run -t 10 banner 127.25.0.1 25
assert_first_line_re '220 mx1\.mailmon\.test ESMTP .*'

check "SMTP banner over implicit TLS on 127.25.0.1:465"
run -t 10 tls_banner 127.25.0.1 465 mx1.mailmon.test
assert_first_line_re '220 mx1\.mailmon\.test ESMTP .*'

check "SMTP banner on 127.25.0.1:587"
run -t 10 banner 127.25.0.1 587
assert_first_line_re '220 mx1\.mailmon\.test ESMTP .*'

check "SMTP banner on [$MAILMON_MX6_V6]:25"
run -t 10 banner "$MAILMON_MX6_V6" 25
assert_first_line_re '220 mx6\.mailmon\.test ESMTP .*'

check "DNSBL: 127.0.0.2 listed on zone01"
run dig +short +time=2 +tries=1 "@$MAILMON_DNS" 2.0.0.127.zone01.bl.test A
assert_first_line 127.0.0.2

check "DNSBL: 127.0.0.1 not listed on zone01"
run dig +time=2 +tries=1 "@$MAILMON_DNS" 1.0.0.127.zone01.bl.test A
assert_stdout_contains "status: NXDOMAIN"

check "tarpit on $MAILMON_TARPIT:25 accepts and never speaks"
start_tarpit "$MAILMON_TARPIT" 25
run -t 2 banner "$MAILMON_TARPIT" 25
assert_rc 124
assert_faster_than 5000

check "silent DNS server on $MAILMON_DNS_SILENT never answers"
start_silent_udp "$MAILMON_DNS_SILENT" 53
run dig +time=1 +tries=1 "@$MAILMON_DNS_SILENT" 2.0.0.127.silent.bl.test A
assert_rc 9

finish
