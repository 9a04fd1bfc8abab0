"""Fixtures of the host end-to-end tests: host namespaces with their own userspace OVS, guest
namespaces, OVN central, and ``Host`` instances configured for them. Everything is created
with unique names in private run directories and removed on teardown, even when a test fails.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from vifbind.host import Host, HostConfig
from vifbind.sandbox import OvnCentral, Ovs

from guests import Namespace, token

NEEDED = ("ip", "nft", "ovsdb-server", "ovs-vswitchd", "ovs-vsctl", "ovn-northd", "ping")


@pytest.fixture(scope="session", autouse=True)
def _prerequisites() -> None:
    if os.geteuid() != 0:
        pytest.skip("host end-to-end tests need root (namespaces, OVS, nftables)")
    missing = [tool for tool in NEEDED if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"missing tools: {', '.join(missing)} (run scripts/setup.sh)")


@pytest.fixture
def tag() -> str:
    """A token unique to this test, part of every name it creates."""
    return token()


@pytest.fixture
def netns(tag: str) -> Iterator[Callable[[str], Namespace]]:
    """Factory of namespaces named ``vbt<tag>-<name>``, all deleted on teardown."""
    made: list[Namespace] = []

    def make(name: str) -> Namespace:
        ns = Namespace.create(f"vbt{tag}-{name}")
        made.append(ns)
        return ns

    yield make
    for ns in reversed(made):
        ns.delete()


@dataclass
class TestHost:
    """A host namespace with its own OVS, and the ``Host`` that drives it."""

    __test__ = False  # a fixture's value, not a test class

    ns: Namespace
    ovs: Ovs
    config: HostConfig
    host: Host


@pytest.fixture
def make_host(
    netns: Callable[[str], Namespace],
) -> Iterator[Callable[..., TestHost]]:
    """Factory of test hosts: ``make_host("hv1", hypervisor="netns", **config)``."""
    made: list[TestHost] = []

    def make(
        name: str, *, ovs: bool = True, fail_mode: str = "standalone", **config: Any
    ) -> TestHost:
        ns = netns(name)
        switch = Ovs(ns.name)
        try:
            if ovs:
                switch.start(fail_mode=fail_mode)
            settings = {
                "host": name,
                "hypervisor": "netns",
                "netns": ns.name,
                "ovsdb": switch.remote if ovs else "",
                "vhostuser_socket_dir": str(switch.daemons.rundir),
            } | config
            cfg = HostConfig.model_validate(settings)
            made.append(TestHost(ns, switch, cfg, Host(cfg)))
        except BaseException:
            switch.stop()
            raise
        return made[-1]

    yield make
    for test_host in reversed(made):
        test_host.host.close()
        test_host.ovs.stop()


@pytest.fixture
def ovn() -> Iterator[OvnCentral]:
    """OVN central (NB, SB, northd) in private run directories."""
    central = OvnCentral()
    try:
        yield central.start()
    finally:
        central.stop()


@pytest.fixture
def ovn_host(make_host: Callable[..., TestHost], ovn: OvnCentral, tag: str) -> TestHost:
    """A host whose OVS has ovn-controller attached to ``ovn`` (Geneve endpoint on loopback)."""
    hv = make_host("ovnhv", fail_mode="secure", tunnels={"geneve": "127.0.0.1"})
    ovn.attach(hv.ovs, chassis=f"ch-{tag}", encap_ip="127.0.0.1")
    return hv
