#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# A local HTTP sink for notification tests: socat accepts on 127.0.0.1:PORT and runs this
# script once per connection; it stores the request line, headers and body of each request
# as DIR/request-N.{head,body} and answers 200 with a small JSON body (Slack, Telegram and
# webhook receivers all accept that).
# Usage: http-sink.sh serve PORT DIR   (foreground; the test backgrounds and kills it)
#        http-sink.sh handle DIR       (run by socat per connection)
set -euo pipefail

handle()
{
    local dir=$1 line length=0 n
    n=$(mktemp -u "$dir/request-XXXXXX")
    IFS= read -r line
    printf '%s\n' "${line%$'\r'}" >"$n.head"
    while IFS= read -r line; do
        line=${line%$'\r'}
        [[ -z $line ]] && break
        printf '%s\n' "$line" >>"$n.head"
        if [[ ${line,,} =~ ^content-length:\ *([0-9]+) ]]; then
            length=${BASH_REMATCH[1]}
        fi
    done
    head -c "$length" >"$n.body"
    printf 'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n'
    printf 'Connection: close\r\n\r\n{"ok":true}'
}

case ${1:-} in
serve)
    mkdir -p "$3"
    exec socat "TCP-LISTEN:$2,bind=127.0.0.1,reuseaddr,fork" \
        "EXEC:$(printf '%q' "$0") handle $(printf '%q' "$3")"
    ;;
handle)
    handle "$2"
    ;;
*)
    echo "usage: $0 serve PORT DIR | handle DIR" >&2
    exit 2
    ;;
esac
