#!/usr/bin/env bash
# The demo: set up, then decide bindings offline for the example port on three hosts — a current
# KVM host, an older host that knows only ovs 1.0, and a Xen host no backend can serve for this
# overlay network — and show each decision.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH"

out=$(mktemp)
trap 'rm -f "$out"' EXIT

show() {
    local host=$1
    echo
    echo "== vifbind negotiate --network examples/network.json --port examples/port.json --host examples/$host"
    local status=0
    vifbind negotiate --network examples/network.json --port examples/port.json \
        --host "examples/$host" >"$out" || status=$?
    jq -r '"status: \(.status)   backend: \(.backend)   vif: \(.vif.type // "-") \(.vif.version // "")",
           "protections: \(.protections // "-" | tostring)",
           (.decisions[] | "  \(.outcome | .[0:11] | . + " " * (11 - length)) \(.backend)/\(.vif_type // "-"): \(.reason)")' \
        "$out"
    echo "exit code: $status (0 bound, 1 failed)"
    return 0
}

show host-kvm.json
show host-old.json
show host-xen.json
