"""``vifbind doctor`` on this machine (everything there) and on a PATH without the tools."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from builders import VIFBIND

pytestmark = pytest.mark.e2e


def doctor(*args: str, path: str | None = None) -> subprocess.CompletedProcess[str]:
    env = os.environ | ({"PATH": path} if path is not None else {})
    return subprocess.run(
        [VIFBIND, "doctor", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_everything_required_is_here() -> None:
    done = doctor("--json", "--libvirt")
    assert done.returncode == 0, done.stderr
    checks = {c["name"]: c for c in json.loads(done.stdout)}
    required = ("privileges", "network namespaces", "nftables", "libnftables.so.1")
    for name in (*required, "ovs-vswitchd", "pyroute2"):
        assert checks[name]["ok"], checks[name]
    assert checks["ovs datapath"]["detail"].startswith(("netdev only", "system"))


def test_missing_tools_are_named_with_their_package(tmp_path: object) -> None:
    done = doctor(path="/nonexistent")
    assert done.returncode == 12
    assert "apt-get install iproute2" in done.stdout
    assert "apt-get install openvswitch-switch" in done.stdout
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("vifbind: error: missing: ip")
    assert "Traceback" not in done.stderr
