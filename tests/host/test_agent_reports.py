"""The agent tells the service what it plugged together in one request (the service records
the reports in one transaction), and tells a service older than that request port by port."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from vifbind.client import Client
from vifbind.contract.api import PluggedOutcome, PortPlugged
from vifbind.errors import NotFound
from vifbind.host.agent import Agent
from vifbind.sandbox import wait_for
from vifbind.service.settings import ServiceSettings

from agents import FAST, agent_of
from builders import vxlan
from harness import RunningService, requests_answered, serve_in_thread

pytestmark = pytest.mark.e2e

ONE = "/v1/ports/{port_id}/bindings/{host}/plugged"
MANY = "/v1/hosts/{host}/plugged"


@pytest.fixture
def service(tmp_path: Path) -> Iterator[RunningService]:
    settings = ServiceSettings(state_dir=tmp_path / "state", backends=("ovs",))
    with serve_in_thread(settings) as running:
        yield running


class OlderServiceClient(Client):
    """A client of a service that predates ``PUT /v1/hosts/{host}/plugged``: that route is
    absent there (the service under test is the agent's fallback, not the old service)."""

    def report_plugged_many(
        self, host: str, reports: Sequence[PortPlugged]
    ) -> list[PluggedOutcome]:
        raise NotFound(f"Not Found: PUT /v1/hosts/{host}/plugged")


def bind_ports(service: RunningService, count: int, vni: int) -> list[str]:
    api = service.client()
    net = api.create_network([vxlan(vni)])
    ports = [api.create_port(net.id, fixed_ips=[f"192.0.2.{50 + i}"]).id for i in range(count)]
    for port_id in ports:
        api.bind(port_id, "hv", check=True)
    return ports


def test_ports_plugged_together_are_reported_in_one_request(
    make_host: Callable[..., Any], service: RunningService
) -> None:
    hv = make_host("hv", hypervisor="kvm", tunnels={"vxlan": "198.51.100.1"})
    api = service.client()
    api.report_host(hv.host.facts())
    ports = bind_ports(service, 4, 105)
    with agent_of(hv, service):
        for port_id in ports:
            assert api.wait_plugged(port_id, "hv", timeout=20).plugged
    assert requests_answered(service, "PUT", MANY) == 1
    assert requests_answered(service, "PUT", ONE) == 0


def test_an_older_service_is_told_port_by_port(
    make_host: Callable[..., Any], service: RunningService
) -> None:
    hv = make_host("hv", hypervisor="kvm", tunnels={"vxlan": "198.51.100.1"})
    api = service.client()
    api.report_host(hv.host.facts())
    ports = bind_ports(service, 3, 106)
    with OlderServiceClient(service.url, service.token("agent", "hv")) as client:
        agent = Agent(hv.host, client, FAST)
        with agent.in_thread():
            for port_id in ports:
                assert api.wait_plugged(port_id, "hv", timeout=20).plugged
        wait_for(lambda: not agent.batch_reports, what="the agent to learn the service's age")
    assert requests_answered(service, "PUT", ONE) == 3
