# SPDX-License-Identifier: GPL-3.0-or-later
# Certificate variants for check_mail_cert's tests, sourced by sandbox.sh: one Postfix endpoint
# per broken (or DANE) certificate, made at start by mailmon-testcert, because Debian 12's
# openssl CLI cannot date certificates in the past or future. README.md lists the addresses.

# address, host name in the banner, chain file in $run/tls (the variant name + .chain.pem)
readonly variant_endpoints=(
    "127.25.0.11 expired.mailmon.test expired.chain.pem"
    "127.25.0.12 expiring.mailmon.test expiring.chain.pem"
    "127.25.0.13 future.mailmon.test future.chain.pem"
    "127.25.0.14 selfsigned.mailmon.test selfsigned.chain.pem"
    "127.25.0.15 wrongname.mailmon.test wrongname.chain.pem"
    "127.25.0.16 nochain.mailmon.test nochain.chain.pem"
    "127.25.0.17 rsa1024.mailmon.test rsa1024.chain.pem"
    "127.25.0.18 sha1.mailmon.test sha1.chain.pem"
    "127.25.0.19 untrusted.mailmon.test untrusted.chain.pem"
    "127.25.0.20 fleet.mailmon.test fleet-a.chain.pem"
    "127.25.0.21 fleet.mailmon.test fleet-b.chain.pem"
    "127.25.0.30 dane.mailmon.test dane.chain.pem"
)

# The mailmon-testcert binary: $MAILMON_TESTCERT (ctest sets it), else the default build tree.
# Prints nothing when there is none; the sandbox then runs without the variants.
find_testcert()
{
    local candidate
    for candidate in "${MAILMON_TESTCERT:-}" "$repo/build/tests/mailmon-testcert"; do
        if [[ -n $candidate && -x $candidate ]]; then
            echo "$candidate"
            return 0
        fi
    done
}

# variant NAME ISSUER ARGS...: NAME.pem and NAME.key signed by ISSUER (a name in $run/tls, or
# "self"), with mailmon-testcert's options ARGS.
variant()
{
    local name=$1 issuer=$2 tls=$run/tls
    shift 2
    local from=(--ca-cert "$tls/$issuer.pem" --ca-key "$tls/$issuer.key")
    [[ $issuer == self ]] && from=()
    "$testcert" "${from[@]}" --serial "$((RANDOM * 32768 + RANDOM))" \
        --out-cert "$tls/$name.pem" --out-key "$tls/$name.key" "$@" \
        2>>"$run/log/openssl.log" || die "cannot make certificate $name; read openssl.log"
}

# chain NAME PARTS...: NAME.chain.pem = NAME.key, NAME.pem, then the PEM files PARTS.
chain()
{
    local name=$1 tls=$run/tls part
    shift
    {
        cat "$tls/$name.key" "$tls/$name.pem"
        for part in "$@"; do
            cat "$tls/$part.pem"
        done
    } >"$tls/$name.chain.pem"
}

# leaf_variant NAME HOST ARGS...: a leaf for HOST under the sandbox intermediate, served with
# the intermediate.
leaf_variant()
{
    local name=$1 host=$2
    shift 2
    variant "$name" intermediate --cn "$host" --dns "$host" "$@"
    chain "$name" intermediate
}

make_cert_variants()
{
    leaf_variant expired expired.mailmon.test --not-before-days -30 --not-after-days -2
    leaf_variant expiring expiring.mailmon.test --not-after-days 10
    leaf_variant future future.mailmon.test --not-before-days 2 --not-after-days 90
    variant selfsigned self --cn selfsigned.mailmon.test --dns selfsigned.mailmon.test
    chain selfsigned
    leaf_variant wrongname other.example.org
    variant nochain intermediate --cn nochain.mailmon.test --dns nochain.mailmon.test
    chain nochain
    leaf_variant rsa1024 rsa1024.mailmon.test --key rsa:1024
    leaf_variant sha1 sha1.mailmon.test --digest SHA1
    variant other-root self --cn "mailmon sandbox untrusted root CA" --ca \
        --not-after-days 3650
    variant other-intermediate other-root --cn "mailmon sandbox untrusted intermediate CA" \
        --ca --not-after-days 1825
    variant untrusted other-intermediate --cn untrusted.mailmon.test \
        --dns untrusted.mailmon.test
    chain untrusted other-intermediate
    leaf_variant fleet-a fleet.mailmon.test --not-after-days 200
    leaf_variant fleet-b fleet.mailmon.test --not-after-days 150
    leaf_variant dane dane.mailmon.test --dns ee.signed.test --dns ta.signed.test \
        --dns nomatch.signed.test
}

# TLSA records of the DANE host, appended to the zones before signing: in signed.test one
# name per case (leaf 3 1 1, intermediate 2 1 1, a 3 1 1 that matches nothing), and in the
# unsigned mailmon.test a matching 3 1 1 that must be ignored.
variant_tlsa_records()
{
    local dns=$1 leaf intermediate other
    leaf=$(spki_sha256 "$run/tls/dane.pem")
    intermediate=$(spki_sha256 "$run/tls/intermediate.pem")
    other=$(spki_sha256 "$run/tls/leaf.pem")
    printf '_25._tcp.ee TLSA 3 1 1 %s\n' "$leaf" >>"$dns/signed.test.zone"
    printf '_25._tcp.ta TLSA 2 1 1 %s\n' "$intermediate" >>"$dns/signed.test.zone"
    printf '_25._tcp.nomatch TLSA 3 1 1 %s\n' "$other" >>"$dns/signed.test.zone"
    printf '_25._tcp.dane TLSA 3 1 1 %s\n' "$leaf" >>"$dns/mailmon.test.zone"
}
