#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Prints a plugin's options as JSON, {"--hostname": "description", ...}, read from its --help
# in the layout of lib/src/cli.cpp: " -H, --hostname=DOMAIN" then the description wrapped and
# indented by four spaces. --help, --version, --verbose, --output and --list-zones are left
# out: they are not for the scheduler (they print information instead of checking, or change
# the format the CheckCommands read), and so is an alias
# whose description is "Same as -X."
# Usage: help-options.sh PLUGIN
set -euo pipefail

# --help exits 3, as in Monitoring Plugins.
status=0
help=$("$1" --help) || status=$?
if ((status != 3)); then
    echo "help-options: $1 --help exited $status, not 3" >&2
    exit 1
fi

awk '
    /^(Plugin|Common) options:$/ { inside = 1; next }
    /^$/ { if (name != "") { print name "\t" text }; name = ""; inside = 0; next }
    inside && /^ [^ ]/ {
        if (name != "") { print name "\t" text }
        match($0, /--[a-z0-9-]+/)
        name = substr($0, RSTART, RLENGTH)
        text = ""
        next
    }
    inside && /^    / && name != "" {
        sub(/^ +/, "")
        text = text == "" ? $0 : text " " $0
        next
    }
    END { if (name != "") { print name "\t" text } }
' <<<"$help" | jq -Rn '[inputs | split("\t") | {(.[0]): .[1]}] | add
    | del(.["--help"], .["--version"], .["--verbose"], .["--output"], .["--list-zones"])
    | with_entries(select(.value | test("^Same as -") | not))'
