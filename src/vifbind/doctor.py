"""``vifbind doctor``: does this machine have what a vifbind host (or the demo) needs, and if
not, what to install. Each check is a small function; ``run_checks`` runs the table."""

from __future__ import annotations

import ctypes
import importlib
import os
import secrets
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Level = Literal["required", "optional"]


@dataclass(frozen=True)
class Check:
    """The outcome of one check."""

    name: str
    ok: bool
    detail: str
    fix: str = ""
    level: Level = "required"


def _run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)


def python_version() -> Check:
    """Python 3.11 or newer."""
    ok = sys.version_info >= (3, 11)
    return Check("python", ok, sys.version.split()[0], "" if ok else "install Python 3.11+")


def privileges() -> Check:
    """Root, or at least CAP_NET_ADMIN (namespaces, devices, nftables, OVS)."""
    if os.geteuid() == 0:
        return Check("privileges", True, "root")
    status = Path("/proc/self/status").read_text()
    capabilities = next(
        (int(line.split()[1], 16) for line in status.splitlines() if line.startswith("CapEff:")), 0
    )
    net_admin = bool(capabilities & (1 << 12))
    return Check(
        "privileges",
        net_admin,
        "CAP_NET_ADMIN" if net_admin else "not root, no CAP_NET_ADMIN",
        "" if net_admin else "run as root (or give the agent CAP_NET_ADMIN)",
    )


def _tool(name: str, package: str, level: Level = "required") -> Check:
    path = shutil.which(name)
    return Check(
        name,
        path is not None,
        path or "not found",
        "" if path else f"apt-get install {package}",
        level,
    )


def namespaces_and_nftables() -> list[Check]:
    """Create a throw-away network namespace and list nftables inside it."""
    if shutil.which("ip") is None:
        return [Check("network namespaces", False, "ip not found", "apt-get install iproute2")]
    name = f"vbdoctor-{secrets.token_hex(3)}"
    made = _run("ip", "netns", "add", name)
    if made.returncode != 0:
        return [
            Check(
                "network namespaces",
                False,
                made.stderr.strip() or "cannot create one",
                "run as root on a kernel with network namespaces",
            )
        ]
    try:
        checks = [Check("network namespaces", True, "created and deleted one")]
        if shutil.which("nft") is None:
            checks.append(Check("nftables", False, "nft not found", "apt-get install nftables"))
        else:
            listed = _run("ip", "netns", "exec", name, "nft", "-j", "list", "ruleset")
            checks.append(
                Check(
                    "nftables",
                    listed.returncode == 0,
                    "nft -j works" if listed.returncode == 0 else listed.stderr.strip(),
                    "" if listed.returncode == 0 else "load the nf_tables kernel module",
                )
            )
        checks.append(_library("libnftables.so.1", "the agent's nftables", "libnftables1"))
        return checks
    finally:
        _run("ip", "netns", "delete", name)


def _library(soname: str, use: str, package: str) -> Check:
    """A shared library the agent loads in its own process."""
    try:
        ctypes.CDLL(soname)
    except OSError as exc:
        return Check(soname, False, str(exc), f"apt-get install {package}")
    return Check(soname, True, f"loads ({use})")


def open_vswitch() -> list[Check]:
    """The OVS daemons and tools, and which datapaths this kernel offers."""
    checks = [
        _tool(tool, "openvswitch-switch")
        for tool in ("ovsdb-server", "ovs-vswitchd", "ovs-vsctl", "ovsdb-tool")
    ]
    kernel = Path("/sys/module/openvswitch").exists()
    checks.append(
        Check(
            "ovs datapath",
            True,
            "system (kernel module) and netdev"
            if kernel
            else "netdev only (no openvswitch kernel module): bridges need datapath_type=netdev",
            level="optional",
        )
    )
    socket = Path("/var/run/openvswitch/db.sock")
    checks.append(
        Check(
            "ovs running",
            socket.exists(),
            str(socket) if socket.exists() else f"no {socket} (the agent needs a running OVS)",
            "" if socket.exists() else "systemctl start openvswitch-switch",
            "optional",
        )
    )
    return checks


def ovn() -> list[Check]:
    """OVN's host and central daemons (the ovn backend and the demo)."""
    return [
        _tool("ovn-controller", "ovn-host", "optional"),
        _tool("ovn-northd", "ovn-central", "optional"),
    ]


def python_modules() -> list[Check]:
    """The Python libraries the host side drives the system with."""
    checks = []
    for module, purpose in (("pyroute2", "netlink"), ("ovs", "native OVSDB")):
        try:
            importlib.import_module(module)
            checks.append(Check(module, True, f"importable ({purpose})"))
        except ImportError as exc:
            checks.append(Check(module, False, str(exc), "scripts/setup.sh (pip install -e .)"))
    return checks


def libvirt() -> list[Check]:
    """libvirt's Python binding and its test driver (render validation)."""
    try:
        module = importlib.import_module("libvirt")
        connection = module.open("test:///default")
        connection.close()
        checks = [Check("libvirt-python", True, "test:///default opens")]
    except ImportError:
        checks = [
            Check(
                "libvirt-python",
                False,
                "not importable",
                "apt-get install libvirt-dev pkg-config; pip install libvirt-python",
            )
        ]
    checks.append(_tool("virt-xml-validate", "libvirt-clients"))
    return checks


CHECKS: dict[str, Callable[[], Check | list[Check]]] = {
    "python": python_version,
    "privileges": privileges,
    "iproute2": lambda: _tool("ip", "iproute2"),
    "namespaces": namespaces_and_nftables,
    "python modules": python_modules,
    "open vswitch": open_vswitch,
    "ovn": ovn,
}
"""The checks run by default, in order."""


def run_checks(with_libvirt: bool = False) -> list[Check]:
    """Every check's outcome (libvirt's only when asked)."""
    table = dict(CHECKS) | ({"libvirt": libvirt} if with_libvirt else {})
    found: list[Check] = []
    for check in table.values():
        outcome = check()
        found += outcome if isinstance(outcome, list) else [outcome]
    return found
