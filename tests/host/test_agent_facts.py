"""The agent reads the host's facts every ``facts_every`` seconds, not before every watch
request, and a change of the facts still reaches the service within that time. A real host
(its own OVS) and a real service; the agent's clock is the test's."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from vifbind.client import Client
from vifbind.contract import HostReport
from vifbind.host.agent import Agent, AgentSettings
from vifbind.service.settings import ServiceSettings

from harness import RunningService, serve_in_thread

pytestmark = pytest.mark.e2e


@pytest.fixture
def service(tmp_path: Path) -> Iterator[RunningService]:
    settings = ServiceSettings(state_dir=tmp_path / "state", backends=("ovs",))
    with serve_in_thread(settings) as running:
        yield running


def test_facts_are_read_every_few_seconds_and_a_change_is_reported(
    make_host: Callable[..., Any], service: RunningService
) -> None:
    hv = make_host("hv")
    now = [1000.0]
    readings: list[HostReport] = []
    real_facts = hv.host.facts

    def facts() -> HostReport:
        readings.append(real_facts())
        return readings[-1]

    hv.host.facts = facts
    settings = AgentSettings(heartbeat=3600, facts_every=5, reconcile_every=3600, watch_wait=0)
    with Client(service.url, service.token("agent", "hv")) as client:
        agent = Agent(hv.host, client, settings, clock=lambda: now[0])
        agent.step()
        assert len(readings) == 1
        assert service.client().get_host("hv").report.ovs is not None
        for _ in range(3):
            now[0] += 1
            agent.step()
        assert len(readings) == 1, "no facts read between two binding answers"
        hv.ovs.vsctl("del-br", "br-int")
        now[0] += 2
        agent.step()
        assert len(readings) == 2, "read again once facts_every has passed"
        assert service.client().get_host("hv").report.ovs is None, "the change is reported"
