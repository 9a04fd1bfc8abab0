"""Concurrent bind and activate requests: one row per (port, host), one active binding per port,
on one process (SQLite and PostgreSQL) and on two replicas sharing PostgreSQL."""

from __future__ import annotations

import random
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from testbed.serve import ServeProcess, start_serve
from vifbind.client import Client

from builders import host, vxlan
from harness import RunningService

HOSTS = ("cmp-1", "cmp-2", "cmp-3", "cmp-4")
PORTS = 50
REQUESTS = 200


def prepare(api: Client) -> list[str]:
    for name in HOSTS:
        api.report_host(host(name))
    net = api.create_network([vxlan()])
    return [api.create_port(net.id).id for _ in range(PORTS)]


def hammer(urls: list[str], token: str, port_ids: list[str]) -> Counter[int]:
    """200 bind requests, then 200 activations, 32 at a time, spread over ``urls``."""
    rng = random.Random(7)
    binds = [(rng.choice(port_ids), rng.choice(HOSTS)) for _ in range(REQUESTS)]
    headers = {"Authorization": f"Bearer {token}"}
    statuses: Counter[int] = Counter()

    def bind(i: int) -> int:
        port_id, host_name = binds[i]
        url = urls[i % len(urls)]
        return httpx.post(
            f"{url}/v1/ports/{port_id}/bindings",
            json={"host": host_name},
            headers=headers,
            timeout=60,
        ).status_code

    def activate(i: int) -> int:
        port_id, host_name = binds[i]
        url = urls[(i + 1) % len(urls)]
        return httpx.post(
            f"{url}/v1/ports/{port_id}/bindings/{host_name}/activate", headers=headers, timeout=60
        ).status_code

    with ThreadPoolExecutor(max_workers=32) as pool:
        statuses.update(pool.map(bind, range(REQUESTS)))
        statuses.update(pool.map(activate, range(REQUESTS)))
    return statuses


def check_bindings(api: Client, port_ids: list[str]) -> None:
    total = 0
    for port_id in port_ids:
        bindings = api.list_bindings(port_id)
        hosts_of_port = [b.host for b in bindings]
        assert len(hosts_of_port) == len(set(hosts_of_port)), f"duplicate binding of {port_id}"
        if bindings:
            assert sum(b.active for b in bindings) == 1, f"{port_id}: {bindings}"
        total += len(bindings)
    assert total > PORTS, "the requests must have made bindings"
    events = api.events().events
    revisions = [e.revision for e in events]
    assert revisions == sorted(revisions)


def test_parallel_binds_and_activations(service: RunningService) -> None:
    api = service.client()
    port_ids = prepare(api)
    statuses = hammer([service.url], service.admin_token, port_ids)
    assert set(statuses) <= {200, 201}, statuses
    check_bindings(api, port_ids)


@pytest.mark.e2e
def test_parallel_binds_on_two_replicas(
    pg_url: str, tmp_path: Path, serve_processes: list[ServeProcess]
) -> None:
    state = tmp_path / "state"
    replicas = [start_serve(state, pg_url), start_serve(state, pg_url)]
    serve_processes.extend(replicas)
    token = (state / "admin.token").read_text().strip()
    api = Client(replicas[0].url, token)
    port_ids = prepare(api)
    statuses = hammer([r.url for r in replicas], token, port_ids)
    assert set(statuses) <= {200, 201}, statuses
    check_bindings(api, port_ids)
    check_bindings(Client(replicas[1].url, token), port_ids)


def test_parallel_binds_of_one_port(service: RunningService) -> None:
    """200 binds and activations of one port, 32 at a time: a row per host, one active, and
    every change an event of its own revision."""
    api = service.client()
    port_id = prepare(api)[0]
    statuses = hammer([service.url], service.admin_token, [port_id])
    assert set(statuses) <= {200, 201}, statuses
    bindings = api.list_bindings(port_id)
    assert sorted(b.host for b in bindings) == sorted(HOSTS)
    assert sum(b.active for b in bindings) == 1, bindings
    events = [e for e in api.events().events if e.port_id == port_id]
    assert len(events) >= REQUESTS
    assert len({(e.revision, e.host) for e in events}) == len(events)
