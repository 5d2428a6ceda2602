#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Starts and stops the real servers of the integration tests and the demo on loopback
# (Unbound, NSD, rbldnsd, Postfix with a test CA, and Exim when scripts/install-deps.sh unpacked it);
# README.md beside it has the address plan.
# Usage: sandbox.sh start|stop|status|env. Needs root; everything it makes lives in one run
# directory ($MAILMON_SANDBOX_DIR, default REPO/sandbox-run) or on lo, and stop removes it.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
run=${MAILMON_SANDBOX_DIR:-$repo/sandbox-run}
readonly here repo run

readonly resolver=127.53.0.1 authoritative=127.53.0.2 rbl_server=127.53.0.3
readonly silent_dns=127.53.0.4 tarpit=127.25.0.66
readonly v6_prefix=fd6d:6d6d
readonly v6_addresses=("$v6_prefix::25:1" "$v6_prefix::25:6")

# One Postfix endpoint per line: address, host name in the banner, certificate chain file in
# $run/tls. A later test gives one address another certificate by changing its third field.
# The certificate variants of cert-variants.sh join when mailmon-testcert was found at start.
endpoints=(
    "127.25.0.1 mx1.mailmon.test leaf.chain.pem"
    "127.25.0.2 mx2.mailmon.test leaf.chain.pem"
    "127.25.0.3 mx3.mailmon.test leaf.chain.pem"
    "$v6_prefix::25:1 mx1.mailmon.test leaf.chain.pem"
    "$v6_prefix::25:6 mx6.mailmon.test leaf.chain.pem"
)
readonly leaf_names=(mx.mailmon.test mx1.mailmon.test mx1b.mailmon.test mx2.mailmon.test
    mx3.mailmon.test mx4.mailmon.test mx6.mailmon.test mx1.signed.test mx1.bogus.test)
readonly ready_seconds=30

# Exim, the second real MTA, cannot be installed beside Postfix (the Debian packages
# conflict): scripts/install-deps.sh unpacks it here. Without it the sandbox runs without mx4.
readonly exim_root=${MAILMON_EXIM_ROOT:-/opt/mailmon-sandbox/exim}
readonly exim=$exim_root/usr/sbin/exim4 exim_address=127.25.0.4 exim_name=mx4.mailmon.test

have_exim()
{
    [[ -x $exim ]] && id Debian-exim >/dev/null 2>&1
}
# shellcheck source=cert-variants.sh
source "$here/cert-variants.sh"
if [[ -f $run/state/variants ]]; then
    endpoints+=("${variant_endpoints[@]}")
fi

die()
{
    echo "sandbox: $*" >&2
    exit 1
}

note()
{
    echo "sandbox: $*" >&2
}

# True while a process runs. A daemon that exited stays a zombie here when PID 1 does not reap
# orphans, and kill -0 still succeeds on a zombie, hence the state field of /proc/PID/stat.
alive()
{
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    [[ ${stat%% *} != Z ]]
}

# Prints the PID recorded in a pid file if that process still runs the expected program, so a
# recycled PID is never killed.
live_pid()
{
    local file=$1 program=$2 pid
    [[ -s $file ]] || return 1
    read -r pid <"$file" || return 1
    [[ $pid =~ ^[0-9]+$ ]] && alive "$pid" || return 1
    [[ $(cat "/proc/$pid/comm" 2>/dev/null) == "$program"* ]] || return 1
    echo "$pid"
}

# ---------------------------------------------------------------------------------- files

make_ca()
{
    local tls=$run/tls
    openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout "$tls/ca.key" -out "$tls/ca.pem" -days 3650 -subj "/CN=mailmon sandbox root CA" \
        -addext basicConstraints=critical,CA:TRUE \
        -addext keyUsage=critical,keyCertSign,cRLSign 2>>"$run/log/openssl.log"
    printf '%s\n' basicConstraints=critical,CA:TRUE,pathlen:0 \
        keyUsage=critical,keyCertSign,cRLSign subjectKeyIdentifier=hash \
        authorityKeyIdentifier=keyid >"$tls/intermediate.ext"
    issue intermediate "/CN=mailmon sandbox intermediate CA" ca 1825
}

make_leaf()
{
    local tls=$run/tls san
    san=$(printf 'DNS:%s,' "${leaf_names[@]}")
    printf '%s\n' basicConstraints=critical,CA:FALSE keyUsage=critical,digitalSignature \
        extendedKeyUsage=serverAuth subjectKeyIdentifier=hash authorityKeyIdentifier=keyid \
        "subjectAltName=${san%,}" >"$tls/leaf.ext"
    issue leaf "/CN=mx.mailmon.test" intermediate 365
    cat "$tls/leaf.key" "$tls/leaf.pem" "$tls/intermediate.pem" >"$tls/leaf.chain.pem"
    cat "$tls/leaf.pem" "$tls/intermediate.pem" >"$tls/leaf.certs.pem"
}

# Makes $name.key and $name.pem signed by $issuer, with the extensions of $name.ext.
issue()
{
    local name=$1 subject=$2 issuer=$3 days=$4 tls=$run/tls
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout "$tls/$name.key" -out "$tls/$name.csr" -subj "$subject" \
        2>>"$run/log/openssl.log"
    openssl x509 -req -in "$tls/$name.csr" -CA "$tls/$issuer.pem" -CAkey "$tls/$issuer.key" \
        -set_serial "0x$(openssl rand -hex 8)" -days "$days" -extfile "$tls/$name.ext" \
        -out "$tls/$name.pem" 2>>"$run/log/openssl.log"
}

# Prints the RFC 6698 "x 1 1" digest (SHA-256 of the SubjectPublicKeyInfo) of a certificate.
spki_sha256()
{
    openssl x509 -in "$1" -noout -pubkey | openssl pkey -pubin -outform DER \
        | sha256sum | cut -d' ' -f1
}

# Signs $zone with a fresh KSK and ZSK; extra arguments go to ldns-signzone (validity dates).
# Prints the SHA-256 DS of the KSK, the trust anchor Unbound gets.
sign_zone()
{
    local zone=$1 ksk zsk
    shift
    cd "$run/dns"
    ksk=$(ldns-keygen -a ECDSAP256SHA256 -k "$zone")
    zsk=$(ldns-keygen -a ECDSAP256SHA256 "$zone")
    ldns-signzone "$@" -f "$zone.zone.signed" "$zone.zone" "$zsk" "$ksk"
    ldns-key2ds -n -2 "$ksk.key" | tr -s '\t ' ' '
    cd - >/dev/null
}

make_zones()
{
    local dns=$run/dns zone port leaf intermediate signed_ds bogus_ds
    cp "$here"/zones/*.zone "$dns/"
    leaf=$(spki_sha256 "$run/tls/leaf.pem")
    intermediate=$(spki_sha256 "$run/tls/intermediate.pem")
    for zone in signed.test bogus.test; do
        for port in 25 465 587; do
            printf '_%s._tcp.mx1 TLSA 3 1 1 %s\n_%s._tcp.mx1 TLSA 2 1 1 %s\n' \
                "$port" "$leaf" "$port" "$intermediate" >>"$dns/$zone.zone"
        done
    done

    if [[ -f $run/state/variants ]]; then
        variant_tlsa_records "$dns"
    fi
    signed_ds=$(sign_zone signed.test)
    # Signatures that expired years ago: validation fails, so Unbound answers SERVFAIL.
    bogus_ds=$(sign_zone bogus.test -i 20190101000000 -e 20200101000000)

    sed "s|@RUN@|$run|g" "$here/conf/nsd.conf.in" >"$dns/nsd.conf"
    sed "s|@RUN@|$run|g" "$here/conf/unbound.conf.in" >"$dns/unbound.conf"
    printf 'server:\n    trust-anchor: "%s"\n    trust-anchor: "%s"\n' \
        "$signed_ds" "$bogus_ds" >>"$dns/unbound.conf"
}

make_rbl()
{
    local rbl=$run/rbl
    cp "$here"/rbl/* "$rbl/"
    chmod 0755 "$rbl"
    chmod 0644 "$rbl"/*
}

# Prints the rbldnsd zone arguments: zone01..zone50 with the RFC 5782 entries (127.0.0.10 also
# on the first two, 127.0.0.11 on the first five, mx2 127.25.0.2 on zone10), then the special
# lists.
rbl_zones()
{
    local i zone files
    for i in $(seq -w 1 50); do
        zone=zone$i.bl.test
        files=common,rfc5782.ip4
        ((10#$i <= 2)) && files+=,two.ip4
        ((10#$i <= 5)) && files+=,five.ip4
        ((10#$i == 10)) && files+=,mx.ip4
        echo "$zone:ip4set:$files"
    done
    echo "error.bl.test:ip4set:common,error.ip4"
    echo "dead.bl.test:ip4set:common,dead.ip4"
    echo "rewrite.bl.test:ip4set:common,rewrite.ip4"
    echo "ipv6.bl.test:ip6trie:common,ipv6.ip6"
    echo "dbl.bl.test:dnset:common,dbl.dn"
}

make_postfix()
{
    local etc=$run/postfix/etc line address name chain host
    mkdir -p "$etc" "$run/postfix/queue" "$run/postfix/data"
    # The master takes its lock in data_directory after dropping to mail_owner.
    chown postfix: "$run/postfix/data"
    sed "s|@RUN@|$run|g" "$here/conf/main.cf.in" >"$etc/main.cf"
    cp "$here/conf/master.cf.in" "$etc/master.cf"
    for line in "${endpoints[@]}"; do
        read -r address name chain <<<"$line"
        host=$address
        [[ $address == *:* ]] && host="[$address]"
        printf '%s:25 inet n - n - - smtpd -o myhostname=%s -o smtpd_tls_chain_files=%s\n' \
            "$host" "$name" "$run/tls/$chain"
        printf '%s:465 inet n - n - - smtpd -o myhostname=%s -o smtpd_tls_chain_files=%s %s\n' \
            "$host" "$name" "$run/tls/$chain" "-o smtpd_tls_wrappermode=yes"
        printf '%s:587 inet n - n - - smtpd -o myhostname=%s -o smtpd_tls_chain_files=%s %s\n' \
            "$host" "$name" "$run/tls/$chain" "-o smtpd_tls_security_level=encrypt"
    done >>"$etc/master.cf"
}

# Exim reads its key after dropping to its own user, so it gets copies it owns.
make_exim()
{
    have_exim || return 0
    local dir=$run/exim
    mkdir -p "$dir/spool" "$dir/log"
    sed "s|@RUN@|$run|g" "$here/conf/exim.conf.in" >"$dir/exim.conf"
    cp "$run/tls/leaf.certs.pem" "$run/tls/leaf.key" "$dir/"
    chown -R Debian-exim: "$dir/spool" "$dir/log" "$dir/leaf.certs.pem" "$dir/leaf.key"
}

# ------------------------------------------------------------------------------- servers

add_v6_addresses()
{
    local address
    for address in "${v6_addresses[@]}"; do
        if ip -6 addr show dev lo | grep -q "inet6 $address/"; then
            continue
        fi
        ip -6 addr add "$address/128" dev lo nodad \
            || die "cannot add $address to lo (is IPv6 enabled?)"
        echo "$address" >>"$run/state/v6-added"
    done
}

remove_v6_addresses()
{
    local address
    [[ -f $run/state/v6-added ]] || return 0
    while read -r address; do
        ip -6 addr del "$address/128" dev lo 2>/dev/null || true
    done <"$run/state/v6-added"
    rm -f "$run/state/v6-added"
}

start_servers()
{
    nsd -c "$run/dns/nsd.conf" </dev/null >>"$run/log/nsd.log" 2>&1 \
        || die "cannot start NSD; read $run/log/nsd.log"
    # shellcheck disable=SC2046 # one argument per zone definition
    rbldnsd -u rbldns -b "$rbl_server/53" -w "$run/rbl" -p "$run/pid/rbldnsd.pid" \
        $(rbl_zones) </dev/null >>"$run/log/rbldnsd.log" 2>&1 \
        || die "cannot start rbldnsd; read $run/log/rbldnsd.log"
    unbound -c "$run/dns/unbound.conf" </dev/null >>"$run/log/unbound.log" 2>&1 \
        || die "cannot start Unbound; read $run/log/unbound.log"
    postfix -c "$run/postfix/etc" start </dev/null >>"$run/log/postfix-start.log" 2>&1 \
        || die "cannot start Postfix; read $run/log/postfix-start.log and postfix.log"
    if have_exim; then
        "$exim" -C "$run/exim/exim.conf" -bd </dev/null >>"$run/log/exim-start.log" 2>&1 \
            || die "cannot start Exim; read $run/log/exim-start.log and $run/exim/log/"
    fi
}

# Fails when another program already holds one of the sandbox addresses, naming it.
check_addresses_free()
{
    local address users
    for address in "$resolver" "$authoritative" "$rbl_server"; do
        users=$(ss -H -lnup "src $address:53" 2>/dev/null || true)
        [[ -z $users ]] || die "$address:53 is already in use (another sandbox?): $users"
    done
    for address in 127.25.0.1 "$exim_address"; do
        users=$(ss -H -lntp "src $address" 2>/dev/null || true)
        [[ -z $users ]] || die "$address is already in use (another sandbox?): $users"
    done
}

# ------------------------------------------------------------------------------ readiness

dns_answer()
{
    local server=$1 name=$2 type=$3
    dig +short +time=1 +tries=1 "@$server" "$name" "$type" 2>/dev/null | head -n 1
}

# Reads the first line of an SMTP greeting; port 465 speaks TLS from the first byte.
smtp_banner()
{
    local address=$1 port=$2
    if [[ $port == 465 ]]; then
        printf 'QUIT\r\n' | timeout 5 openssl s_client -quiet -verify_quiet \
            -connect "[$address]:$port" 2>/dev/null | head -n 1
        return 0
    fi
    # shellcheck disable=SC2016 # $0 and $1 are expanded by the child shell
    timeout 5 bash -c 'exec 3<>"/dev/tcp/$0/$1" && read -r line <&3 && echo "$line" &&
        printf "QUIT\r\n" >&3' "$address" "$port" 2>/dev/null || true
}

# Prints "name|log" of the first server that does not answer yet, nothing when all answer.
first_unready()
{
    local line address name chain port
    [[ $(dns_answer "$authoritative" mailmon.test SOA) == ns.* ]] \
        || { echo "NSD on $authoritative|nsd.log"; return; }
    [[ $(dns_answer "$rbl_server" 2.0.0.127.zone01.bl.test A) == 127.0.0.2 ]] \
        || { echo "rbldnsd on $rbl_server|rbldnsd.log"; return; }
    [[ $(dns_answer "$resolver" mx1.mailmon.test A) == 127.25.0.1 ]] \
        || { echo "Unbound on $resolver|unbound.log"; return; }
    for line in "${endpoints[@]}"; do
        read -r address name chain <<<"$line"
        for port in 25 465 587; do
            [[ $(smtp_banner "$address" "$port") == "220 $name "* ]] \
                || { echo "Postfix on [$address]:$port|postfix.log"; return; }
        done
    done
    have_exim || return 0
    for port in 25 465 587; do
        [[ $(smtp_banner "$exim_address" "$port") == "220 $exim_name "* ]] \
            || { echo "Exim on $exim_address:$port|../exim/log/mainlog"; return; }
    done
}

wait_ready()
{
    local deadline=$((SECONDS + ready_seconds)) unready
    while true; do
        unready=$(first_unready)
        [[ -z $unready ]] && return 0
        ((SECONDS < deadline)) || break
        sleep 0.2
    done
    note "${unready%|*} does not answer after ${ready_seconds}s; read $run/log/${unready#*|}"
    return 1
}

# ---------------------------------------------------------------------------- commands

daemons_running()
{
    live_pid "$run/pid/nsd.pid" nsd >/dev/null \
        && live_pid "$run/pid/rbldnsd.pid" rbldnsd >/dev/null \
        && live_pid "$run/pid/unbound.pid" unbound >/dev/null \
        && live_pid "$run/postfix/queue/pid/master.pid" master >/dev/null \
        && { ! have_exim || live_pid "$run/exim/exim.pid" exim4 >/dev/null; }
}

cmd_start()
{
    local started=$SECONDS testcert
    ((EUID == 0)) || die "start needs root (it binds port 53 and 25 and adds addresses to lo)"
    if [[ -d $run/state ]]; then
        if daemons_running && [[ -z $(first_unready) ]]; then
            note "already running in $run"
            return 0
        fi
        note "a previous sandbox in $run is incomplete; stopping it first"
        cmd_stop
    fi
    check_addresses_free

    mkdir -p "$run"/{state,tls,dns,rbl,log,pid}
    make_ca
    make_leaf
    testcert=$(find_testcert)
    if [[ -n $testcert ]]; then
        make_cert_variants
        touch "$run/state/variants"
        endpoints+=("${variant_endpoints[@]}")
    else
        note "mailmon-testcert not built: starting without the certificate variants"
    fi
    make_zones
    make_rbl
    make_postfix
    make_exim
    add_v6_addresses

    if ! (start_servers) || ! wait_ready; then
        stop_servers
        remove_v6_addresses
        die "start failed; logs kept in $run/log, 'sandbox.sh stop' removes them"
    fi
    note "started in $((SECONDS - started))s; run directory $run"
}

# Sends TERM to a process and waits for it to end (KILL after 5 s).
stop_pid()
{
    local pid=$1
    kill -TERM "$pid" 2>/dev/null || return 0
    for _ in $(seq 50); do
        alive "$pid" || return 0
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
}

stop_daemon()
{
    local pid
    pid=$(live_pid "$1" "$2") || return 0
    stop_pid "$pid"
}

# Postfix's own stop ends the master; its children go when they see the master gone.
stop_postfix()
{
    local master children pid
    master=$(live_pid "$run/postfix/queue/pid/master.pid" master) || return 0
    children=$(pgrep -P "$master" || true)
    postfix -c "$run/postfix/etc" stop </dev/null >>"$run/log/postfix-start.log" 2>&1 || true
    stop_pid "$master"
    for pid in $children; do
        stop_pid "$pid"
    done
}

stop_servers()
{
    stop_postfix
    stop_daemon "$run/exim/exim.pid" exim4
    stop_daemon "$run/pid/unbound.pid" unbound
    stop_daemon "$run/pid/rbldnsd.pid" rbldnsd
    stop_daemon "$run/pid/nsd.pid" nsd
}

cmd_stop()
{
    [[ -d $run ]] || { note "not running (no $run)"; return 0; }
    stop_servers
    remove_v6_addresses
    if [[ -n ${MAILMON_SANDBOX_KEEP:-} ]]; then
        note "stopped; files kept in $run (MAILMON_SANDBOX_KEEP is set)"
        return 0
    fi
    rm -rf "$run"/{state,tls,dns,rbl,log,pid,postfix,exim}
    rmdir "$run" 2>/dev/null || true
    note "stopped"
}

cmd_status()
{
    local unready
    if ! daemons_running; then
        note "not running in $run"
        return 1
    fi
    unready=$(first_unready)
    if [[ -n $unready ]]; then
        note "running, but ${unready%|*} does not answer; read $run/log/${unready#*|}"
        return 1
    fi
    note "running in $run; every server answers"
}

cmd_env()
{
    cat <<EOF
export MAILMON_SANDBOX_DIR='$run'
export MAILMON_DNS=$resolver
export MAILMON_DNS_AUTH=$authoritative
export MAILMON_DNS_RBL=$rbl_server
export MAILMON_DNS_SILENT=$silent_dns
export MAILMON_TARPIT=$tarpit
export MAILMON_MX1=127.25.0.1
export MAILMON_MX2=127.25.0.2
export MAILMON_MX3=127.25.0.3
export MAILMON_MX4=$(have_exim && echo $exim_address)
export MAILMON_MX1_V6=${v6_addresses[0]}
export MAILMON_MX6_V6=${v6_addresses[1]}
export MAILMON_CA_FILE='$run/tls/ca.pem'
export MAILMON_TLS_DIR='$run/tls'
export MAILMON_LOG_DIR='$run/log'
EOF
}

case ${1:-} in
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    env) cmd_env ;;
    *) die "usage: sandbox.sh start|stop|status|env" ;;
esac
