"""The service-crash scenario: ``vifbind serve`` is SIGKILLed at seeded points while many threads
bind, activate and unbind; after every restart, and at the end, nothing acknowledged is lost."""

from __future__ import annotations

import random
import signal
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from vifbind.client import Client
from vifbind.contract.api import Event

from harness import ServeProcess, start_serve
from invariants import check_service
from workload import Runner, prepare, seeded_ops

HOSTS = ("cmp-1", "cmp-2", "cmp-3", "cmp-4")
SERVE_OPTIONS = ("--backends", "ovs", "--report-max-age", "86400")


@dataclass
class CrashResult:
    """What a run did: requests by outcome, kills, and the size of the final event log."""

    statuses: Counter[int]
    unanswered: int
    kills: list[int]
    events: int
    bindings: int


def run_with_kills(
    state_dir: Path,
    db: str | None,
    *,
    requests: int,
    kills: int,
    seed: int,
    ports: int = 40,
    workers: int = 32,
    started: Callable[[ServeProcess], None] = lambda _process: None,
) -> CrashResult:
    """Send ``requests`` seeded requests, SIGKILL the service ``kills`` times after seeded
    numbers of them have ended, restart it on the same database, and check every invariant
    after each restart and at the end."""
    rng = random.Random(seed)
    kill_points = sorted(rng.sample(range(requests // 10, requests * 9 // 10), kills))
    process = start_serve(state_dir, db, *SERVE_OPTIONS)
    started(process)
    token = (state_dir / "admin.token").read_text().strip()
    port_ids = prepare(Client(process.url, token), HOSTS, ports)
    runner = Runner(seeded_ops(seed, port_ids, HOSTS, requests), process.url, token, workers)
    runner.start()
    logs: list[list[Event]] = []
    for point in kill_points:
        runner.wait_done(point)
        runner.pause()
        process.stop(signal.SIGKILL)
        runner.wait_idle()
        process = start_serve(state_dir, db, *SERVE_OPTIONS)
        started(process)
        events = check_service(Client(process.url, token), runner.ledger)
        if logs:
            assert events[: len(logs[-1])] == logs[-1], "the crash changed the logged past"
        logs.append(list(events))
        runner.resume(process.url)
    runner.join()
    api = Client(process.url, token)
    events = check_service(api, runner.ledger)
    if logs:
        assert events[: len(logs[-1])] == logs[-1], "the crash changed the logged past"
    bindings = len(api.all_bindings())
    process.stop(signal.SIGTERM)
    return CrashResult(
        statuses=Counter(a.status for a in runner.ledger.answers),
        unanswered=len(runner.ledger.unanswered),
        kills=kill_points,
        events=len(events),
        bindings=bindings,
    )
