"""The README's first command runs ``vifbind demo``: it must succeed end to end, show every
step, and leave nothing behind — also when stopped with Ctrl-C while it keeps running."""

from __future__ import annotations

import signal
import subprocess
import time

import pytest

from vifbind.sandbox import run

from builders import VIFBIND

pytestmark = pytest.mark.e2e

STEPS = (
    "✓ Start OVN and a compute host with Open vSwitch",
    "✓ Start the network service and the host's agent",
    "✓ Create a network and three guests",
    "✓ Bind the guests' ports: decisions and the plugged signal",
    "✓ Guests talk to each other",
    "✓ A spoofing guest is dropped",
    "✓ The libvirt <interface> each binding would produce",
    "✓ explain: the same port on a heterogeneous fleet",
)


def leftovers() -> list[str]:
    namespaces = [n for n in run("ip", "netns", "list").split() if n.startswith("vbdemo")]
    daemons = run("pgrep", "-af", "vbt-|vbdemo", check=False).splitlines()
    return namespaces + [d for d in daemons if "pgrep" not in d]


def test_demo_runs_end_to_end_and_cleans_up() -> None:
    before = leftovers()
    done = subprocess.run(
        [VIFBIND, "demo"], capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    for step in STEPS:
        assert step in done.stdout
    assert '<interface type="ethernet">' in done.stdout
    assert "dropped by port security" in done.stdout
    for host in (
        "kvm-old",
        "xs-pool-a",
        "xs-pool-b",
        "esx-east",
        "hv-01",
        "kvm-sriov",
        "kvm-nofilter",
    ):
        assert host in done.stdout
    assert "backported from 1.1" in done.stdout
    assert "everything the demo created is gone" in done.stdout
    assert leftovers() == before


def test_ctrl_c_while_kept_running_cleans_up() -> None:
    before = leftovers()
    demo = subprocess.Popen(
        [VIFBIND, "demo", "--keep"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert demo.stdout is not None
    deadline = time.monotonic() + 300
    seen = []
    for line in demo.stdout:
        seen.append(line)
        if "running until Ctrl-C" in line or time.monotonic() > deadline:
            break
    assert any("running until Ctrl-C" in line for line in seen), "".join(seen)
    demo.send_signal(signal.SIGINT)
    rest, _ = demo.communicate(timeout=120)
    assert demo.returncode == 0, rest
    assert "everything the demo created is gone" in rest
    assert leftovers() == before
