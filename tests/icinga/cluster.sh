# SPDX-License-Identifier: GPL-3.0-or-later
# shellcheck shell=bash
# A three-node Icinga 2 cluster for the multi-region tests, sourced after icinga.sh: a master
# on 127.0.0.1 and one satellite per region, each satellite inside its own network namespace.
# A namespace has only its own loopback, so a satellite reaches nothing of the host's network
# except what a socat bridge carries through a UNIX socket: its API port (for the master) and,
# when the test allows it, single sandbox endpoints such as 127.25.0.1:25. Removing a bridge is
# a regional outage; the namespaces and bridges go away in cluster_stop.

# cluster_bridge DIR NAME NETNS ADDRESS PORT OUTWARD: one TCP forwarder through
# DIR/NAME.sock. OUTWARD=out: a listener on ADDRESS:PORT inside NETNS reaches the same address
# in the root namespace; OUTWARD=in: a listener in the root namespace reaches NETNS.
cluster_bridge()
{
    local dir=$1 name=$2 netns=$3 address=$4 port=$5 direction=$6
    local sock=$dir/$name.sock
    local -a inside=(ip netns exec "$netns")
    rm -f "$sock"
    if [[ $direction == out ]]; then
        socat "UNIX-LISTEN:$sock,fork" "TCP:$address:$port" 2>>"$dir/socat.log" &
        echo $! >>"$dir/$name.pids"
        cluster_wait_socket "$sock"
        "${inside[@]}" socat "TCP-LISTEN:$port,bind=$address,reuseaddr,fork" \
            "UNIX-CONNECT:$sock" 2>>"$dir/socat.log" &
    else
        "${inside[@]}" socat "UNIX-LISTEN:$sock,fork" "TCP:$address:$port" \
            2>>"$dir/socat.log" &
        echo $! >>"$dir/$name.pids"
        cluster_wait_socket "$sock"
        socat "TCP-LISTEN:$port,bind=$address,reuseaddr,fork" "UNIX-CONNECT:$sock" \
            2>>"$dir/socat.log" &
    fi
    echo $! >>"$dir/$name.pids"
}

# cluster_bridge_udp DIR NAME NETNS ADDRESS PORT: DNS for a namespace. A listener on
# ADDRESS:PORT/udp inside NETNS hands each datagram over DIR/NAME.sock to a sender in the root
# namespace; every exchange is one query and one answer, so each forked pair carries exactly
# one datagram each way and the stream socket keeps their boundaries.
cluster_bridge_udp()
{
    local dir=$1 name=$2 netns=$3 address=$4 port=$5
    local sock=$dir/$name.sock
    rm -f "$sock"
    socat "UNIX-LISTEN:$sock,fork" "UDP-SENDTO:$address:$port" 2>>"$dir/socat.log" &
    echo $! >>"$dir/$name.pids"
    cluster_wait_socket "$sock"
    ip netns exec "$netns" socat "UDP-RECVFROM:$port,bind=$address,fork" \
        "UNIX-CONNECT:$sock" 2>>"$dir/socat.log" &
    echo $! >>"$dir/$name.pids"
}

cluster_wait_socket()
{
    local tries
    for ((tries = 0; tries < 50; tries++)); do
        [[ -S $1 ]] && return 0
        sleep 0.1
    done
    echo "cluster: socket $1 did not appear" >&2
    return 1
}

# Ends the socat processes of one bridge (and the connections they forked).
cluster_unbridge()
{
    local dir=$1 name=$2 pid
    [[ -s $dir/$name.pids ]] || return 0
    while read -r pid; do
        pkill -TERM -P "$pid" 2>/dev/null || true
        kill -TERM "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done <"$dir/$name.pids"
    rm -f "$dir/$name.pids" "$dir/$name.sock"
}

# cluster_start DIR PLUGIN_DIR TEMPLATES REGION=ENDPOINT...: master "master" and one
# satellite per region, all loading TEMPLATES (the file to include) in their global zone.
# The caller writes hosts to DIR/master/etc/zones.d/master/ before calling cluster_run.
cluster_init()
{
    local dir=$1 plugin_dir=$2 templates=$3
    shift 3
    local master_port spec region endpoint port zones
    mkdir -p "$dir"
    icinga_ca "$dir/ca"
    master_port=$(icinga_free_port)
    icinga_node "$dir/master" master "$master_port" "$dir/ca" "$plugin_dir"
    zones='object Endpoint "master" { }
object Zone "master" { endpoints = [ "master" ] }'
    for spec in "$@"; do
        region=${spec%%=*} endpoint=${spec#*=}
        port=$(icinga_free_port)
        icinga_node "$dir/$endpoint" "$endpoint" "$port" "$dir/ca" "$plugin_dir"
        printf '%s\n' "$zones" \
            "object Endpoint \"$endpoint\" { }" \
            "object Zone \"$region\" { parent = \"master\"; endpoints = [ \"$endpoint\" ] }" \
            >"$dir/$endpoint/etc/objects.conf"
        zones+="
object Endpoint \"$endpoint\" { host = \"127.0.0.1\"; port = $port }
object Zone \"$region\" { parent = \"master\"; endpoints = [ \"$endpoint\" ] }"
        echo "$endpoint" >>"$dir/satellites"
        echo "include \"$templates\"" \
            >"$dir/$endpoint/etc/zones.d/global-templates/mailmon.conf"
    done
    printf '%s\n' "$zones" >"$dir/master/etc/objects.conf"
    mkdir -p "$dir/master/etc/zones.d/master"
    echo "include \"$templates\"" >"$dir/master/etc/zones.d/global-templates/mailmon.conf"
}

# Starts every satellite in a fresh namespace (with its API bridged to the root namespace),
# then the master, and waits until the master sees every satellite connected.
cluster_start()
{
    local dir=$1 endpoint netns port
    while read -r endpoint; do
        netns=mailmon-$endpoint-$$
        ip netns add "$netns"
        echo "$netns" >>"$dir/namespaces"
        ip netns exec "$netns" ip link set lo up
        port=$(sed -n 's/^port=//p' "$dir/$endpoint/node.env")
        icinga_validate "$dir/$endpoint" || { cat "$dir/$endpoint/validate.out" >&2; return 1; }
        icinga_start "$dir/$endpoint" "$netns"
        cluster_bridge "$dir" "api-$endpoint" "$netns" 127.0.0.1 "$port" in
    done <"$dir/satellites"
    icinga_validate "$dir/master" || { cat "$dir/master/validate.out" >&2; return 1; }
    icinga_start "$dir/master"
    while read -r endpoint; do
        icinga_wait_ready "$dir/$endpoint"
    done <"$dir/satellites"
    cluster_wait_connected "$dir"
}

# The namespace a satellite runs in.
cluster_netns()
{
    local dir=$1 endpoint=$2
    grep -x "mailmon-$endpoint-[0-9]*" "$dir/namespaces"
}

cluster_wait_connected()
{
    local dir=$1 tries expected connected
    expected=$(wc -l <"$dir/satellites")
    for ((tries = 0; tries < 100; tries++)); do
        connected=$(icinga_eval "$dir/master" \
            'len(get_objects(Endpoint).filter(e => e.name != "master" && e.connected))')
        [[ $connected == "$expected" ]] && return 0
        sleep 0.2
    done
    echo "cluster: only $connected of $expected satellites connected" >&2
    return 1
}

cluster_stop()
{
    local dir=$1 endpoint netns name
    [[ -d $dir ]] || return 0
    icinga_stop "$dir/master"
    if [[ -s $dir/satellites ]]; then
        while read -r endpoint; do
            icinga_stop "$dir/$endpoint"
        done <"$dir/satellites"
    fi
    for name in "$dir"/*.pids; do
        [[ -e $name ]] || continue
        name=${name##*/}
        cluster_unbridge "$dir" "${name%.pids}"
    done
    if [[ -s $dir/namespaces ]]; then
        while read -r netns; do
            ip netns del "$netns" 2>/dev/null || true
        done <"$dir/namespaces"
        rm -f "$dir/namespaces"
    fi
}
