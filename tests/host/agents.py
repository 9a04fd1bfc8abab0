"""Agents for the host end-to-end tests: run in a thread against a service in this process."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from vifbind.client import Client
from vifbind.host.agent import Agent, AgentSettings

from guests import Namespace
from harness import RunningService

FAST = AgentSettings(heartbeat=5, reconcile_every=3, watch_wait=0.5)
"""Quick enough for tests: reconcile every 3 s, watch requests held 0.5 s."""


@contextmanager
def agent_of(test_host: Any, service: RunningService) -> Iterator[Agent]:
    """The host's agent, running in a thread until the block ends."""
    token = service.token("agent", test_host.config.host)
    with (
        Client(service.url, token) as client,
        Agent(test_host.host, client, FAST).in_thread() as agent,
    ):
        yield agent


def guest_port(api: Client, network_id: str, guest: Namespace, ip: str) -> str:
    """A port for ``guest`` (its namespace is the port's device) with one address."""
    return api.create_port(network_id, fixed_ips=[ip], device_id=guest.name).id
