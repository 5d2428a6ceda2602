# SPDX-License-Identifier: GPL-3.0-or-later
# shellcheck shell=bash
# Small helpers for integration tests written in bash: run a command under a timeout, capture
# what it did, assert on it with a diff on failure, and exit non-zero when anything failed.
# Source it, call `sandbox_env`, then `run`/`assert_*` for each case, and `finish` at the end.

lib_repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
passed=0
failed=0
case_name=""

# Imports the sandbox exports (MAILMON_DNS, MAILMON_CA_FILE, ...) and fails when it is down.
sandbox_env()
{
    eval "$("$lib_repo/tests/sandbox/sandbox.sh" env)"
    "$lib_repo/tests/sandbox/sandbox.sh" status 2>/dev/null \
        || { echo "FAIL: the sandbox is not running (tests/sandbox/sandbox.sh start)"; exit 1; }
}

# Names the case that the following assertions belong to.
check()
{
    case_name=$1
}

# run [-t SECONDS] CMD ARGS...: runs CMD (a program or a shell function of the test) with a
# timeout (default 30 s) and sets RUN_STDOUT, RUN_STDERR, RUN_RC (124 on timeout) and RUN_MS,
# the wall time in milliseconds.
run()
{
    local seconds=30 out err started
    if [[ $1 == -t ]]; then
        seconds=$2
        shift 2
    fi
    # timeout(1) runs programs only, so a function runs in a child bash that inherits it.
    if declare -F "$1" >/dev/null; then
        # shellcheck disable=SC2163 # exports the function named by $1, as intended
        export -f "$1"
        set -- bash -c '"$@"' run "$@"
    fi
    out=$(mktemp)
    err=$(mktemp)
    started=$(date +%s%N)
    RUN_RC=0
    timeout --kill-after=2 "$seconds" "$@" >"$out" 2>"$err" </dev/null || RUN_RC=$?
    RUN_MS=$((($(date +%s%N) - started) / 1000000))
    RUN_STDOUT=$(cat "$out")
    RUN_STDERR=$(cat "$err")
    rm -f "$out" "$err"
}

pass()
{
    passed=$((passed + 1))
    echo "ok: $case_name: $1"
}

# fail WHAT EXPECTED ACTUAL: counts a failure and shows the difference.
fail()
{
    failed=$((failed + 1))
    echo "FAIL: $case_name: $1"
    # diff exits 1 on a difference; || true keeps a script under set -e going to the end.
    diff -u --label expected --label actual <(printf '%s\n' "$2") <(printf '%s\n' "$3") \
        | sed 's/^/    /' || true
    [[ -z ${RUN_STDERR:-} ]] || printf '    stderr: %s\n' "$RUN_STDERR"
}

assert_rc()
{
    if [[ $RUN_RC == "$1" ]]; then
        pass "exit code $1"
    else
        fail "exit code" "$1" "$RUN_RC"
    fi
}

assert_first_line()
{
    local first=${RUN_STDOUT%%$'\n'*}
    if [[ $first == "$1" ]]; then
        pass "first line"
    else
        fail "first line" "$1" "$first"
    fi
}

# The regex is a bash extended regular expression matched against the whole first line.
assert_first_line_re()
{
    local first=${RUN_STDOUT%%$'\n'*}
    if [[ $first =~ ^($1)$ ]]; then
        pass "first line matches /$1/"
    else
        fail "first line matches a regex" "/$1/" "$first"
    fi
}

assert_stdout_contains()
{
    if [[ $RUN_STDOUT == *"$1"* ]]; then
        pass "stdout contains '$1'"
    else
        fail "stdout contains" "$1" "$RUN_STDOUT"
    fi
}

assert_stderr_empty()
{
    if [[ -z $RUN_STDERR ]]; then
        pass "stderr empty"
    else
        fail "stderr empty" "" "$RUN_STDERR"
    fi
}

# Compares stdout, with every duration ("0.0123s") replaced by "Xs", to the golden text.
assert_golden()
{
    local actual
    actual=$(sed -E 's/[0-9]+(\.[0-9]+)?s\b/Xs/g' <<<"$RUN_STDOUT")
    if [[ $actual == "$1" ]]; then
        pass "golden stdout"
    else
        fail "golden stdout" "$1" "$actual"
    fi
}

# The usual plugin assertions: exit code RC, golden stdout, and silence on stderr.
expect()
{
    assert_rc "$1"
    assert_golden "$2"
    assert_stderr_empty
}

# For the deadline tests: the command must have ended within MS milliseconds.
assert_faster_than()
{
    if ((RUN_MS < $1)); then
        pass "took ${RUN_MS} ms < $1 ms"
    else
        fail "wall time below $1 ms" "< $1" "$RUN_MS"
    fi
}

# Fault peers that no real server plays, as small Perl programs (perl-base is Essential in
# Debian): start_tarpit accepts TCP and never speaks (the sandbox reserves 127.25.0.66:25),
# start_silent_udp binds a UDP port and never answers (127.53.0.4:53 for silent.bl.test).
# Both return once the port is bound; finish (or the exit of the script) stops them.
start_tarpit()
{
    # shellcheck disable=SC2016 # Perl code: perl expands it
    start_peer "$1" "$2" tcp 'my $s = IO::Socket::IP->new(LocalHost => $ARGV[0],
        LocalPort => $ARGV[1], Listen => 64, ReuseAddr => 1) or die "cannot listen: $@\n";
        my @held; while (my $c = $s->accept) { push @held, $c }'
}

start_silent_udp()
{
    # shellcheck disable=SC2016 # Perl code: perl expands it
    start_peer "$1" "$2" udp 'my $s = IO::Socket::IP->new(LocalHost => $ARGV[0],
        LocalPort => $ARGV[1], Proto => "udp") or die "cannot bind: $@\n"; sleep'
}

peer_pids=()

start_peer()
{
    local address=$1 port=$2 protocol=$3 program=$4 waited
    perl -MIO::Socket::IP -e "$program" "$address" "$port" </dev/null >/dev/null 2>&1 &
    peer_pids+=($!)
    trap stop_peers EXIT
    for waited in $(seq 50); do
        [[ -n $(ss -Hln --"$protocol" "src [$address]:$port") ]] && return 0
        sleep 0.1
    done
    echo "FAIL: cannot start a $protocol peer on [$address]:$port after ${waited}00 ms"
    exit 1
}

stop_peers()
{
    local pid
    for pid in "${peer_pids[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    peer_pids=()
}

finish()
{
    stop_peers
    echo "passed: $passed, failed: $failed"
    ((failed == 0))
}
