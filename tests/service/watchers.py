"""Watchers that follow one host's bindings exactly as an agent does — ``since`` is the last
answer's revision, outages are waited out — and the check that what each saw is the event log."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from vifbind.client import Client
from vifbind.contract import Binding
from vifbind.contract.api import Event, HostBindings
from vifbind.errors import ServiceUnavailable


@dataclass(frozen=True)
class Seen:
    """One answer of the watch: asked ``since``, answered by ``url``, arrived at ``at``."""

    since: int
    answer: HostBindings
    url: str
    at: float


@dataclass
class Watcher:
    """A thread in the agent's watch loop for ``host``."""

    client: Client
    host: str
    wait: float = 10.0
    seen: list[Seen] = field(default_factory=list)
    outages: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name=f"watch-{self.host}", daemon=True)
        self._thread.start()

    def stop_soon(self) -> None:
        """Stop after the poll in flight ends."""
        self._stop.set()

    def join(self) -> None:
        if self._thread is not None:
            self._thread.join(timeout=self.wait + 35)
            assert not self._thread.is_alive(), f"the watcher of {self.host} did not stop"
        self.client.close()

    @property
    def revision(self) -> int:
        return self.seen[-1].answer.revision if self.seen else -1

    def _loop(self) -> None:
        since = 0
        while not self._stop.is_set():
            try:
                answer = self.client.watch_host(self.host, since=since, wait=self.wait)
            except ServiceUnavailable:
                self.outages += 1
                time.sleep(0.2)
                continue
            self.seen.append(Seen(since, answer, self.client.base_url, time.monotonic()))
            since = answer.revision


def stop_all(watchers: Sequence[Watcher]) -> None:
    """Stop every watcher (each after its poll in flight)."""
    for watcher in watchers:
        watcher.stop_soon()
    for watcher in watchers:
        watcher.join()


def wait_until_seen(
    watchers: Sequence[Watcher], events: Sequence[Event] = (), timeout: float = 60
) -> None:
    """Until every watcher has answered once, and up to its host's last event in ``events``."""
    last = {e.host: e.revision for e in events}
    deadline = time.monotonic() + timeout
    while behind := {w.host: w.revision for w in watchers if w.revision < last.get(w.host, 0)}:
        assert time.monotonic() < deadline, f"watchers behind their hosts' last events: {behind}"
        time.sleep(0.05)


def check_saw_the_log(watcher: Watcher, events: Sequence[Event]) -> None:
    """The first answer is the host's bindings as the log has them at its revision; each later
    answer asked from the previous one's revision and holds exactly the latest logged change of
    each of the host's ports in between; the last one is at or past the host's last event."""
    own = [e for e in events if e.host == watcher.host]
    first = watcher.seen[0].answer
    assert first.complete, f"{watcher.host}: the first answer must be complete"
    assert _by_port(first.bindings) == _replay(e for e in own if e.revision <= first.revision)
    for before, after in itertools.pairwise(watcher.seen):
        assert after.since == before.answer.revision
        assert not after.answer.complete, f"{watcher.host}: started over at {after.since}"
        window = [e for e in own if before.answer.revision < e.revision <= after.answer.revision]
        expected = {e.port_id: e.binding for e in window}
        assert _by_port(after.answer.bindings) == expected, (
            f"{watcher.host}: after {after.since} the watch answered "
            f"{sorted(_by_port(after.answer.bindings))}, the log has {sorted(expected)}"
        )
    assert not own or watcher.revision >= own[-1].revision


def _by_port(bindings: Sequence[Binding]) -> dict[str, Binding]:
    return {b.port_id: b for b in bindings}


def _replay(events: Iterable[Event]) -> dict[str, Binding]:
    state: dict[str, Binding] = {}
    for event in events:
        if event.kind == "deleted":
            state.pop(event.port_id, None)
        else:
            state[event.port_id] = event.binding
    return state
