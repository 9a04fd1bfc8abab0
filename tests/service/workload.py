"""A seeded mix of bind, activate and unbind requests, sent by many threads to a service that
may be killed under them, and the ledger of how each request ended."""

from __future__ import annotations

import random
import threading
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import httpx

from vifbind.client import Client
from vifbind.contract import Binding

from builders import host, vxlan

Kind = Literal["bind", "activate", "unbind"]
KINDS: tuple[Kind, ...] = ("bind", "activate", "unbind")
WEIGHTS = (0.45, 0.30, 0.25)


@dataclass(frozen=True)
class Op:
    """One request of the workload."""

    kind: Kind
    port_id: str
    host: str

    def send(self, http: httpx.Client, url: str) -> httpx.Response:
        path = f"{url}/v1/ports/{self.port_id}/bindings"
        if self.kind == "bind":
            return http.post(path, json={"host": self.host})
        if self.kind == "activate":
            return http.post(f"{path}/{self.host}/activate")
        return http.delete(f"{path}/{self.host}")


@dataclass(frozen=True)
class Answer:
    """A request the service answered: its status, and the binding of a 2xx answer."""

    op: Op
    status: int
    binding: Binding | None


@dataclass
class Ledger:
    """How every request ended: answered (with what), or cut off without an answer — applied
    or not, nobody knows."""

    answers: list[Answer] = field(default_factory=list)
    unanswered: list[Op] = field(default_factory=list)

    def acknowledged(self) -> list[Answer]:
        """The answers with a 2xx status."""
        return [a for a in self.answers if a.binding is not None]


def prepare(api: Client, hosts: Sequence[str], ports: int) -> list[str]:
    """Report ``hosts``, make one network with ``ports`` ports; the ports' ids."""
    for name in hosts:
        api.report_host(host(name))
    network = api.create_network([vxlan()])
    return [api.create_port(network.id).id for _ in range(ports)]


def seeded_ops(seed: int, port_ids: Sequence[str], hosts: Sequence[str], count: int) -> list[Op]:
    """``count`` requests drawn with ``seed``: few ports and hosts, so that requests collide."""
    rng = random.Random(seed)
    return [
        Op(rng.choices(KINDS, WEIGHTS)[0], rng.choice(port_ids), rng.choice(hosts))
        for _ in range(count)
    ]


class Runner:
    """Sends the ops from ``workers`` threads to the current URL. ``pause`` stops new requests
    from starting (those in flight go on); ``resume`` lets them start again, at a new URL.

    A request refused at connect time was never sent: it goes back in the queue. A connection
    that broke after the request went out leaves the request unanswered."""

    def __init__(self, ops: Sequence[Op], url: str, token: str, workers: int = 32) -> None:
        self.ledger = Ledger()
        self._queue = deque(ops)
        self._url = url
        self._token = token
        self._open = threading.Event()
        self._open.set()
        self._changed = threading.Condition()
        self._in_flight = 0
        self._done = 0
        self._threads = [threading.Thread(target=self._work, daemon=True) for _ in range(workers)]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def pause(self) -> None:
        self._open.clear()

    def resume(self, url: str) -> None:
        self._url = url
        self._open.set()

    def stop(self) -> None:
        """Drop the requests not yet started and let the workers end."""
        with self._changed:
            self._queue.clear()
        self._open.set()
        self.join()

    def wait_done(self, count: int, timeout: float = 600) -> None:
        """Until ``count`` requests have ended (answered or cut off), or the queue is empty."""
        with self._changed:
            finished = self._changed.wait_for(
                lambda: self._done >= count or (not self._queue and not self._in_flight), timeout
            )
        assert finished, f"only {self._done} of {count} requests ended in {timeout} s"

    def wait_idle(self, timeout: float = 120) -> None:
        """Until no request is in flight."""
        with self._changed:
            assert self._changed.wait_for(lambda: self._in_flight == 0, timeout)

    def join(self, timeout: float = 600) -> None:
        for thread in self._threads:
            thread.join(timeout)
            assert not thread.is_alive(), "a worker did not finish"

    def _work(self) -> None:
        headers = {"Authorization": f"Bearer {self._token}"}
        with httpx.Client(headers=headers, timeout=120) as http:
            while True:
                self._open.wait()
                with self._changed:
                    if not self._queue:
                        return
                    op = self._queue.popleft()
                    self._in_flight += 1
                try:
                    self._send(http, op)
                finally:
                    with self._changed:
                        self._in_flight -= 1
                        self._changed.notify_all()

    def _send(self, http: httpx.Client, op: Op) -> None:
        try:
            response = op.send(http, self._url)
        except (httpx.ConnectError, httpx.ConnectTimeout):
            with self._changed:
                self._queue.appendleft(op)
            return
        except httpx.TransportError:
            with self._changed:
                self.ledger.unanswered.append(op)
                self._done += 1
            return
        ok = 200 <= response.status_code < 300
        binding = Binding.model_validate_json(response.content) if ok else None
        answer = Answer(op, response.status_code, binding)
        with self._changed:
            self.ledger.answers.append(answer)
            self._done += 1
