"""Item 3 of the reliability suite: two ``vifbind serve`` replicas on one PostgreSQL, watchers in
the agent's loop on replica A with both URLs; A is SIGKILLed while requests go through it. The
watchers carry on at B without an outage and, compared with the event log, miss no event."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from vifbind.client import Client

from harness import ServeProcess, start_serve
from invariants import check_service
from watchers import Watcher, check_saw_the_log, stop_all, wait_until_seen
from workload import Runner, prepare, seeded_ops

HOSTS = tuple(f"cmp-{i}" for i in range(1, 6))
REQUESTS = 300
OPTIONS = ("--backends", "ovs", "--report-max-age", "86400")


@pytest.mark.e2e
def test_watchers_fail_over_to_the_other_replica_and_miss_no_event(
    pg_url: str, tmp_path: Path, serve_processes: list[ServeProcess]
) -> None:
    state = tmp_path / "state"
    a = start_serve(state, pg_url, *OPTIONS)
    serve_processes.append(a)
    b = start_serve(state, pg_url, *OPTIONS)
    serve_processes.append(b)
    admin = (state / "admin.token").read_text().strip()
    api = Client(b.url, admin)
    port_ids = prepare(api, HOSTS, 30)
    watchers = []
    for name in HOSTS:
        token = api.create_token("agent", host=name).token
        assert token is not None
        watchers.append(Watcher(Client([a.url, b.url], token), name, wait=5))
    for watcher in watchers:
        watcher.start()
    wait_until_seen(watchers)

    runner = Runner(seeded_ops(3, port_ids, HOSTS, REQUESTS), a.url, admin, workers=8)
    runner.start()
    runner.wait_done(REQUESTS // 2)
    runner.pause()
    a.stop(signal.SIGKILL)
    runner.wait_idle()
    runner.resume(b.url)
    runner.join()

    events = check_service(api, runner.ledger)
    wait_until_seen(watchers, events)
    stop_all(watchers)
    for watcher in watchers:
        check_saw_the_log(watcher, events)
        assert watcher.outages == 0, f"{watcher.host}: the failover showed as an outage"
        assert watcher.client.base_url == b.url
        assert watcher.seen[0].url == a.url, "the watch must have started on replica A"
    changed = sum(1 for w in watchers for s in w.seen[1:] if s.answer.bindings)
    assert changed > len(HOSTS), "the watchers must have seen changes"
