"""Faults under a running system: the host's ovsdb-server killed under the agent,
ovn-controller killed, OVN northbound killed under the service. Operations fail with a
reported reason, nothing is reported plugged that is not, and once the daemon is back
everything converges without anyone's help."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from vifbind.errors import ServiceUnavailable
from vifbind.sandbox import wait_for
from vifbind.service.settings import ServiceSettings

from agents import agent_of, guest_port
from builders import vxlan
from guests import Namespace
from harness import RunningService, serve_in_thread

pytestmark = pytest.mark.e2e


@pytest.fixture
def ovs_service(tmp_path: Path) -> Iterator[RunningService]:
    with serve_in_thread(
        ServiceSettings(state_dir=tmp_path / "state", backends=("ovs",))
    ) as running:
        yield running


def test_ovsdb_killed_under_the_agent(
    make_host: Callable[..., Any], netns: Callable[[str], Namespace], ovs_service: RunningService
) -> None:
    hv = make_host("hv", tunnels={"vxlan": "198.51.100.61"})
    g1, g2 = netns("g1"), netns("g2")
    api = ovs_service.client()
    net = api.create_network([vxlan(800)])
    with agent_of(hv, ovs_service):
        wait_for(lambda: bool(api.list_hosts()), what="the agent's report")
        p1 = guest_port(api, net.id, g1, "192.0.2.61")
        api.bind(p1, "hv", check=True)
        assert api.wait_plugged(p1, "hv", timeout=20).plugged
        hv.ovs.daemons.kill("ovsdb-server")
        p2 = guest_port(api, net.id, g2, "192.0.2.62")
        api.bind(p2, "hv", check=True)
        wait_for(
            lambda: api.get_binding(p2, "hv").plug_error is not None,
            timeout=60,
            what="the agent to report that it cannot plug",
        )
        refused = api.get_binding(p2, "hv")
        assert not refused.plugged, "never plugged while OVSDB is down"
        hv.ovs.daemons.restart("ovsdb-server")
        # The periodic reconcile plugs it once OVSDB is back, and says so.
        assert api.wait_plugged(p2, "hv", timeout=60).plugged
        g1.addr("192.0.2.61/24")
        g2.addr("192.0.2.62/24")
        assert g1.eventually_pings("192.0.2.62", timeout=20)


def test_ovn_controller_killed_and_restarted(
    ovn_host: Any, netns: Callable[[str], Namespace], ovn: Any, tmp_path: Path
) -> None:
    hv = ovn_host
    g1, g2 = netns("g1"), netns("g2")
    settings = ServiceSettings(state_dir=tmp_path / "state", backends=("ovn",), ovn_nb=ovn.nb)
    with serve_in_thread(settings) as service:
        api = service.client()
        net = api.create_network([{"type": "geneve", "segmentation_id": 801}])
        with agent_of(hv, service):
            wait_for(lambda: bool(api.list_hosts()), what="the agent's report")
            ports = [
                guest_port(api, net.id, g, ip) for g, ip in ((g1, "192.0.2.71"), (g2, "192.0.2.72"))
            ]
            for port_id in ports:
                api.bind(port_id, "ovnhv", check=True)
                assert api.wait_plugged(port_id, "ovnhv", timeout=30).plugged
            g1.addr("192.0.2.71/24")
            g2.addr("192.0.2.72/24")
            assert g1.eventually_pings("192.0.2.72", timeout=20)
            hv.ovs.daemons.kill("ovn-controller")
            hv.ovs.daemons.restart("ovn-controller")
            assert g1.eventually_pings("192.0.2.72", timeout=30), "traffic back after restart"
            for port_id in ports:
                assert api.wait_plugged(port_id, "ovnhv", timeout=30).plugged


def test_northbound_killed_under_the_service(
    ovn_host: Any, netns: Callable[[str], Namespace], ovn: Any, tmp_path: Path
) -> None:
    hv = ovn_host
    guest = netns("g")
    settings = ServiceSettings(state_dir=tmp_path / "state", backends=("ovn",), ovn_nb=ovn.nb)
    with serve_in_thread(settings) as service:
        api = service.client()
        net = api.create_network([{"type": "geneve", "segmentation_id": 802}])
        with agent_of(hv, service):
            wait_for(lambda: bool(api.list_hosts()), what="the agent's report")
            port_id = guest_port(api, net.id, guest, "192.0.2.81")
            ovn.daemons.kill("nb")
            # The binding cannot be made without its logical port: refused, nothing stored.
            with pytest.raises(ServiceUnavailable, match="northbound"):
                api.bind(port_id, "ovnhv")
            assert api.list_bindings(port_id) == []
            ovn.daemons.restart("nb")
            deadline = time.monotonic() + 30
            while True:
                try:
                    api.bind(port_id, "ovnhv", check=True)
                    break
                except ServiceUnavailable:
                    assert time.monotonic() < deadline, "northbound never came back"
                    time.sleep(0.5)
            # OVN's up reaches the binding through the reconnected watch.
            assert api.wait_plugged(port_id, "ovnhv", timeout=30).plugged
