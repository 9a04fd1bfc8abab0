"""Unplugging several ports at once: ``Host.unplug_many`` removes every device, OVS port and
chain of the batch in one go and leaves the rest alone; the agent unplugs the bindings that
went away in one incremental answer as one batch."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from vifbind.client import Client
from vifbind.host.agent import Agent, AgentSettings
from vifbind.service.settings import ServiceSettings

from bindings import HOST_ANTISPOOF, binding, devname, ovs_vif, port_id
from builders import vxlan
from guests import Namespace
from harness import RunningService, serve_in_thread

pytestmark = pytest.mark.e2e


def test_unplug_many_removes_the_batch_and_nothing_else(
    make_host: Callable[..., Any], netns: Callable[[str], Namespace]
) -> None:
    hv = make_host("hv")
    guests = [netns(f"g{i}") for i in range(4)]
    ports = [port_id() for _ in guests]
    bindings = [
        binding("hv", ovs_vif(p, hybrid=(i == 1)), port=p, mac=f"fa:16:3e:0e:00:0{i + 1}",
                ips=[f"192.0.2.{i + 1}"], device_id=g.name,
                protections=HOST_ANTISPOOF if i == 1 else None)
        for i, (p, g) in enumerate(zip(ports, guests, strict=True))
    ]  # fmt: skip
    assert {r.outcome for r in hv.host.apply(bindings)} == {"plugged"}
    hv.ns.ip("link", "add", "bystander", "type", "veth", "peer", "name", "bystander1")
    hv.ns.ip("link", "set", "bystander", "group", "5")  # the devices are deleted by group
    never = port_id()

    results = hv.host.unplug_many([*ports[:3], never])

    assert [(r.port_id, r.outcome, r.changed) for r in results] == [
        (ports[0], "unplugged", True),
        (ports[1], "unplugged", True),
        (ports[2], "unplugged", True),
        (never, "unplugged", False),
    ]
    links = hv.ns.ip("link")
    assert all(p[:8] not in links for p in ports[:3]), "devices, the hybrid bridge and veths"
    assert "bystander" in links and devname(ports[3]) in links
    assert "group 5" in hv.ns.ip("-d", "link", "show", "bystander")
    assert hv.ovs.vsctl("list-ports", "br-int").split() == [devname(ports[3])]
    assert f"o-{ports[1]}" not in hv.ns.exec("nft", "list", "ruleset")
    assert hv.host.inventory().owned_ports() == {ports[3]}
    assert hv.host.check(bindings[3:]) == []
    again = hv.host.unplug_many(ports[:3])
    assert {(r.outcome, r.changed) for r in again} == {("unplugged", False)}


def test_unplug_many_of_nothing_does_nothing(make_host: Callable[..., Any]) -> None:
    hv = make_host("hv")
    assert hv.host.unplug_many([]) == []


@pytest.fixture
def service(tmp_path: Path) -> Iterator[RunningService]:
    settings = ServiceSettings(state_dir=tmp_path / "state", backends=("ovs",))
    with serve_in_thread(settings) as running:
        yield running


def test_the_agent_unplugs_the_bindings_gone_in_one_answer_as_one_batch(
    make_host: Callable[..., Any],
    service: RunningService,
    caplog: pytest.LogCaptureFixture,
) -> None:
    hv = make_host("hv", hypervisor="kvm", tunnels={"vxlan": "198.51.100.1"})
    api = service.client()
    settings = AgentSettings(heartbeat=60, reconcile_every=600, watch_wait=0.2)
    with Client(service.url, service.token("agent", "hv")) as client:
        agent = Agent(hv.host, client, settings)
        agent.step()  # reports the host; nothing bound yet
        net = api.create_network([vxlan(301)])
        ports = [api.create_port(net.id, port_security=False).id for _ in range(4)]
        for p in ports:
            api.bind(p, "hv", check=True)
        agent.step()
        assert all(api.get_binding(p, "hv").plugged for p in ports)
        assert len(hv.ovs.vsctl("list-ports", "br-int").split()) == 4
        for p in ports[:3]:
            api.unbind(p, "hv")
        with caplog.at_level(logging.INFO, logger="vifbind.host.agent"):
            agent.step()
    assert "unplugged 3 ports in" in caplog.text
    assert hv.ovs.vsctl("list-ports", "br-int").split() == [devname(ports[3])]
    links = hv.ns.ip("link")
    assert all(devname(p) not in links for p in ports[:3]) and devname(ports[3]) in links
    assert hv.host.inventory().owned_ports() == {ports[3]}
