"""The load scenario: many ports bound across many reported hosts while agents watch some of
the hosts; request latencies measured, and every watcher checked against the event log."""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from vifbind.client import Client
from vifbind.contract import Binding

from builders import host, vxlan
from invariants import check_service
from watchers import Watcher, check_saw_the_log, stop_all, wait_until_seen

PORTS_PER_NETWORK = 250


@dataclass
class LoadResult:
    """Latencies in seconds, per kind of request, and how the watch kept up."""

    ports: int
    hosts: int
    watchers: int
    latencies: dict[str, list[float]] = field(default_factory=dict)
    delivery: list[float] = field(default_factory=list)
    """Seconds from a change's acknowledgement to its watcher's answer holding it."""
    events: int = 0
    watched_changes: int = 0
    seconds: float = 0.0

    def figures(self) -> dict[str, Any]:
        """p50/p99 in milliseconds per request kind and for watch delivery, and the counts."""
        table: dict[str, Any] = {
            name: {"count": len(values), "p50_ms": _ms(values, 50), "p99_ms": _ms(values, 99)}
            for name, values in [*self.latencies.items(), ("watch delivery", self.delivery)]
        }
        table["totals"] = {
            "ports": self.ports,
            "hosts": self.hosts,
            "watchers": self.watchers,
            "events": self.events,
            "watched changes": self.watched_changes,
            "seconds": round(self.seconds, 1),
        }
        return table


def run_load(
    urls: Sequence[str],
    token: str,
    *,
    ports: int,
    hosts: int,
    watched: int,
    workers: int = 16,
    seed: int = 5,
) -> LoadResult:
    """Report ``hosts`` hosts, create ``ports`` ports, start ``watched`` agent watchers (spread
    over the replicas' ``urls``), bind every port, then unbind a fifth and move a fifth to
    another host; check the service's invariants and every watcher against the event log."""
    started = time.monotonic()
    rng = random.Random(seed)
    result = LoadResult(ports=ports, hosts=hosts, watchers=watched)
    api = Client(list(urls), token, timeout=120)
    names = [f"load-{i:03d}" for i in range(hosts)]
    pool = ThreadPoolExecutor(max_workers=workers)
    timed = _timer(result, pool)
    timed("report", [lambda n=n: api.report_host(host(n)) for n in names])
    count = (ports - 1) // PORTS_PER_NETWORK + 1
    networks = [api.create_network([vxlan(3000 + i)]).id for i in range(count)]
    created = timed(
        "create port",
        [lambda i=i: api.create_port(networks[i // PORTS_PER_NETWORK]) for i in range(ports)],
    )
    port_ids = [p.id for p in created]
    watchers = []
    for i, name in enumerate(names[:watched]):
        agent = api.create_token("agent", host=name).token
        assert agent is not None
        own = [*urls[i % len(urls) :], *urls[: i % len(urls)]]
        watchers.append(Watcher(Client(own, agent, timeout=120), name, wait=5))
    for watcher in watchers:
        watcher.start()
    wait_until_seen(watchers)

    acked: dict[tuple[str, str, int], float] = {}

    def acknowledged(binding: Binding) -> Binding:
        acked[binding.port_id, binding.host, binding.revision] = time.monotonic()
        return binding

    placed = {p: names[i % hosts] for i, p in enumerate(port_ids)}
    bound = timed(
        "bind", [lambda p=p, h=h: acknowledged(api.bind(p, h)) for p, h in placed.items()]
    )
    assert all(b.status == "bound" for b in bound), "every bind must succeed"
    shuffled = rng.sample(port_ids, len(port_ids))
    leaving, moving = shuffled[: ports // 5], shuffled[ports // 5 : 2 * ports // 5]
    timed("unbind", [lambda p=p: acknowledged(api.unbind(p, placed[p])) for p in leaving])
    moves = {p: names[(names.index(placed[p]) + 1) % hosts] for p in moving}
    timed("bind", [lambda p=p, h=h: acknowledged(api.bind(p, h)) for p, h in moves.items()])
    timed(
        "activate",
        [lambda p=p, h=h: acknowledged(api.activate(p, h)) for p, h in moves.items()],
    )
    pool.shutdown()

    events = check_service(api)
    wait_until_seen(watchers, events)
    stop_all(watchers)
    for watcher in watchers:
        check_saw_the_log(watcher, events)
        for seen in watcher.seen[1:]:
            result.watched_changes += len(seen.answer.bindings)
            for binding in seen.answer.bindings:
                at = acked.get((binding.port_id, binding.host, binding.revision))
                if at is not None:
                    result.delivery.append(max(0.0, seen.at - at))
    result.events = len(events)
    result.seconds = time.monotonic() - started
    api.close()
    return result


def _timer(
    result: LoadResult, pool: ThreadPoolExecutor
) -> Callable[[str, Sequence[Callable[[], Any]]], list[Any]]:
    """Run calls on the pool, recording each one's latency under a name; their results."""

    def timed(name: str, calls: Sequence[Callable[[], Any]]) -> list[Any]:
        latencies = result.latencies.setdefault(name, [])

        def one(call: Callable[[], Any]) -> Any:
            begun = time.perf_counter()
            answer = call()
            latencies.append(time.perf_counter() - begun)
            return answer

        return list(pool.map(one, calls))

    return timed


def _ms(values: Sequence[float], percent: int) -> float | None:
    if len(values) < 2:
        return round(1000 * values[0], 1) if values else None
    return round(1000 * statistics.quantiles(values, n=100, method="inclusive")[percent - 1], 1)
