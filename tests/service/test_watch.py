"""Watching: the agent's long poll of its bindings and the event log, on one process and
across two replicas sharing PostgreSQL."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from testbed.serve import ServeProcess, start_serve
from vifbind.client import Client
from vifbind.contract.api import HostBindings, PortPlugged
from vifbind.service import watch

from builders import host, vxlan
from harness import RunningService


def later(delay: float, action: Callable[[], Any]) -> threading.Thread:
    thread = threading.Thread(target=lambda: (time.sleep(delay), action()))
    thread.start()
    return thread


def bound_port(api: Client, host_name: str = "cmp-1") -> str:
    net = api.create_network([vxlan()])
    port = api.create_port(net.id)
    api.report_host(host(host_name))
    api.bind(port.id, host_name)
    return port.id


def test_full_then_incremental(service: RunningService) -> None:
    api = service.client()
    first = bound_port(api)
    snapshot = api.watch_host("cmp-1")
    assert snapshot.complete and [b.port_id for b in snapshot.bindings] == [first]
    quiet = api.watch_host("cmp-1", since=snapshot.revision)
    assert not quiet.complete and quiet.bindings == [] and quiet.revision == snapshot.revision
    api.unbind(first, "cmp-1")
    change = api.watch_host("cmp-1", since=snapshot.revision)
    assert [(b.port_id, b.status) for b in change.bindings] == [(first, "unbound")]
    assert change.revision > snapshot.revision


def test_long_poll_returns_when_the_host_changes(service: RunningService) -> None:
    api = service.client()
    port_id = bound_port(api)
    since = api.watch_host("cmp-1").revision
    thread = later(0.4, lambda: api.unbind(port_id, "cmp-1"))
    started = time.monotonic()
    answer = api.watch_host("cmp-1", since=since, wait=20)
    elapsed = time.monotonic() - started
    thread.join()
    assert [b.status for b in answer.bindings] == ["unbound"]
    assert 0.3 < elapsed < 10


def test_long_poll_ignores_other_hosts_and_times_out(service: RunningService) -> None:
    api = service.client()
    bound_port(api)
    since = api.watch_host("cmp-1").revision
    thread = later(0.2, lambda: bound_port(api, "cmp-2"))
    started = time.monotonic()
    answer = api.watch_host("cmp-1", since=since, wait=1.0)
    thread.join()
    assert answer.bindings == [] and not answer.complete
    assert time.monotonic() - started >= 0.9
    assert answer.revision >= since


def test_a_watcher_ahead_of_the_database_starts_over(service: RunningService) -> None:
    api = service.client()
    bound_port(api)
    answer = api.watch_host("cmp-1", since=10**9)
    assert answer.complete and len(answer.bindings) == 1


def test_events_in_order_with_filters(service: RunningService) -> None:
    api = service.client()
    port_id = bound_port(api)
    api.report_plugged(
        port_id, "cmp-1", plugged=True, revision=api.get_binding(port_id, "cmp-1").revision
    )
    api.unbind(port_id, "cmp-1")
    events = api.events(port_id=port_id).events
    assert [e.kind for e in events] == ["bound", "plugged", "deleted"]
    assert [e.revision for e in events] == sorted(e.revision for e in events)
    assert api.events(host="cmp-9").events == []
    thread = later(0.3, lambda: bound_port(api, "cmp-3"))
    waited = api.events(since=events[-1].revision, wait=20)
    thread.join()
    assert [e.host for e in waited.events] == ["cmp-3"]


def test_event_pages_never_split_a_transaction(
    service: RunningService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page ends at a revision boundary, and one transaction with more events than a page
    holds (a host's batch of plugged reports) is served whole: reading page after page from
    each answer's revision sees every event once."""
    monkeypatch.setattr(watch, "MAX_EVENTS", 3)
    api = service.client()
    ports = [bound_port(api) for _ in range(5)]
    reports = [
        PortPlugged(port_id=p, plugged=True, revision=api.get_binding(p, "cmp-1").revision)
        for p in ports
    ]
    assert all(o.recorded for o in api.report_plugged_many("cmp-1", reports))
    seen: list[tuple[int, str, str]] = []
    since = 0
    while True:
        page = api.events(since=since)
        if not page.events:
            break
        seen += [(e.revision, e.kind, e.port_id) for e in page.events]
        since = page.revision
    assert sorted(k for _, k, p in seen if p in ports) == ["bound"] * 5 + ["plugged"] * 5
    plugged = {r for r, k, _ in seen if k == "plugged"}
    assert len(plugged) == 1, "the batch is one transaction"
    assert len(seen) == len(set(seen))


@pytest.mark.e2e
def test_a_change_through_one_replica_wakes_a_watcher_on_the_other(
    pg_url: str, tmp_path: Path, serve_processes: list[ServeProcess]
) -> None:
    """Two ``vifbind serve`` processes on one PostgreSQL: LISTEN/NOTIFY carries the news."""
    state = tmp_path / "state"
    first = start_serve(state, pg_url)
    serve_processes.append(first)
    second = start_serve(state, pg_url)
    serve_processes.append(second)
    token = (state / "admin.token").read_text().strip()
    api_a, api_b = Client(first.url, token), Client(second.url, token)
    port_id = bound_port(api_a)
    since = api_b.watch_host("cmp-1").revision
    seen: list[HostBindings] = []
    watcher = threading.Thread(
        target=lambda: seen.append(api_b.watch_host("cmp-1", since=since, wait=30))
    )
    watcher.start()
    time.sleep(0.5)
    started = time.monotonic()
    api_a.unbind(port_id, "cmp-1")
    watcher.join(timeout=40)
    assert seen and [b.status for b in seen[0].bindings] == ["unbound"]
    assert time.monotonic() - started < 5, "woken by NOTIFY, not by the timeout"


def lb_host(name: str, ip: str) -> Any:
    return host(name, ovs=None, tunnels={"vxlan": ip})


def test_linux_bridge_hosts_learn_each_others_tunnel_endpoints(service: RunningService) -> None:
    api = service.client()
    api.report_host(lb_host("cmp-1", "198.51.100.1"))
    api.report_host(lb_host("cmp-2", "198.51.100.2"))
    net = api.create_network([vxlan(31)])
    other_net = api.create_network([vxlan(32)])
    first = api.create_port(net.id)
    assert api.bind(first.id, "cmp-1").backend == "linuxbridge"
    alone = api.watch_host("cmp-1")
    assert alone.peers == {net.id: []}
    # A port of the same network bound on cmp-2 wakes cmp-1's watch with the new peer.
    second = api.create_port(net.id)
    thread = later(0.3, lambda: api.bind(second.id, "cmp-2"))
    woken = api.watch_host("cmp-1", since=alone.revision, wait=20)
    thread.join()
    assert woken.bindings == [] and woken.peers_changed
    assert woken.peers == {net.id: ["198.51.100.2"]}
    assert api.watch_host("cmp-2").peers == {net.id: ["198.51.100.1"]}
    # Another network's ports are none of cmp-1's business.
    unrelated = api.create_port(other_net.id)
    api.bind(unrelated.id, "cmp-2")
    quiet = api.watch_host("cmp-1", since=woken.revision, wait=0.5)
    assert not quiet.peers_changed and quiet.peers == {net.id: ["198.51.100.2"]}
    api.unbind(second.id, "cmp-2")
    gone = api.watch_host("cmp-1", since=quiet.revision)
    assert gone.peers_changed and gone.peers == {net.id: []}


def test_the_answer_read_as_it_arrives_is_the_answer_read_whole(service: RunningService) -> None:
    """The agent reads a host's complete answer a binding at a time (``watch_host_each``): it
    gets what the service's answer says as a whole, for a complete and an incremental one."""
    api = service.client()
    first = [bound_port(api) for _ in range(3)]
    whole = HostBindings.model_validate_json(
        httpx.get(
            f"{service.url}/v1/hosts/cmp-1/bindings",
            headers={"Authorization": f"Bearer {service.admin_token}"},
        ).content
    )
    assert whole.complete and sorted(b.port_id for b in whole.bindings) == sorted(first)
    assert api.watch_host("cmp-1") == whole
    answer, kept = api.watch_host_each("cmp-1", keep=lambda b: (b.port_id, b.revision))
    assert kept == [(b.port_id, b.revision) for b in whole.bindings]
    assert answer == whole.model_copy(update={"bindings": []})
    api.unbind(first[0], "cmp-1")
    change, gone = api.watch_host_each("cmp-1", since=whole.revision, keep=lambda b: b.status)
    assert not change.complete and gone == ["unbound"]
