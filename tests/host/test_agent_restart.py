"""A restarted agent reconciles its host and tells the service only what the service does not
know already: ports it reads as plugged are not reported plugged again (on a host of thousands
of ports, that was thousands of requests before the agent could take new bindings). Counted by
the service's own metrics."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from vifbind.client import Client
from vifbind.contract.api import PLUG_ERROR_MAX
from vifbind.host.agent import Agent
from vifbind.host.held import HeldBinding
from vifbind.host.results import PortResult
from vifbind.sandbox import wait_for
from vifbind.service.settings import ServiceSettings

from agents import agent_of
from builders import vxlan
from harness import RunningService, requests_answered, serve_in_thread

pytestmark = pytest.mark.e2e

PLUGGED = "/v1/ports/{port_id}/bindings/{host}/plugged"
PLUGGED_MANY = "/v1/hosts/{host}/plugged"


def reports_sent(service: RunningService) -> int:
    """Plugged reports the service answered: port by port, or several in one request."""
    return requests_answered(service, "PUT", PLUGGED) + requests_answered(
        service, "PUT", PLUGGED_MANY
    )


@pytest.fixture
def service(tmp_path: Path) -> Iterator[RunningService]:
    settings = ServiceSettings(state_dir=tmp_path / "state", backends=("ovs",))
    with serve_in_thread(settings) as running:
        yield running


def test_a_restarted_agent_does_not_report_plugged_ports_again(
    make_host: Callable[..., Any], service: RunningService
) -> None:
    hv = make_host("hv", hypervisor="kvm", tunnels={"vxlan": "198.51.100.1"})
    api = service.client()
    net = api.create_network([vxlan(103)])
    with agent_of(hv, service):
        wait_for(lambda: bool(api.list_hosts()), what="the agent's report")
        ports = [
            api.create_port(net.id, fixed_ips=[f"192.0.2.{30 + i}"], port_security=i == 0).id
            for i in range(3)
        ]
        for port_id in ports:
            api.bind(port_id, "hv", check=True)
        for port_id in ports:
            assert api.wait_plugged(port_id, "hv", timeout=20).plugged
    told = reports_sent(service)
    assert told >= 1
    # Drift while the agent is away: the restart repairs it, and the port stays plugged.
    tap = next(b.vif.model_dump()["details"]["devname"] for b in api.all_bindings(host="hv")
               if b.port_id == ports[1] and b.vif is not None)  # fmt: skip
    hv.ns.ip("link", "set", tap, "down")
    with agent_of(hv, service) as agent:
        wait_for(lambda: agent.revision > 0, what="the restarted agent's first reconcile")
        assert "UP" in json.loads(hv.ns.ip("-j", "link", "show", tap))[0]["flags"]
    assert reports_sent(service) == told, "nothing the service knew was sent again"
    assert all(b.plugged for b in api.all_bindings(host="hv"))


def test_a_reason_longer_than_the_contract_takes_is_cut_not_fatal(
    make_host: Callable[..., Any], service: RunningService
) -> None:
    """An OVSDB error may quote a whole batch of commands: the agent reports it cut to the
    contract's length instead of dying on the service's refusal."""
    hv = make_host("hv", hypervisor="kvm", tunnels={"vxlan": "198.51.100.1"})
    api = service.client()
    net = api.create_network([vxlan(104)])
    with Client(service.url, service.token("agent", "hv")) as client:
        agent = Agent(hv.host, client)
        client.report_host(hv.host.facts())
        port_id = api.create_port(net.id, fixed_ips=["192.0.2.40"]).id
        agent.desired[port_id] = HeldBinding.of(api.bind(port_id, "hv", check=True))
        agent._tell([PortResult(port_id=port_id, outcome="failed", reason="x" * 5000)])
    stored = api.get_binding(port_id, "hv")
    assert stored.plug_retrying and stored.plug_error is not None
    assert len(stored.plug_error) == PLUG_ERROR_MAX and stored.plug_error.endswith("…")
