#!/usr/bin/env bash
# The demo: set up this machine (scripts/setup.sh), then run `vifbind demo` — OVN, a compute host
# with Open vSwitch, the network service and its agent, three guests — step by step. Extra
# arguments go to `vifbind demo` (e.g. --keep).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/vifbind demo "$@"
