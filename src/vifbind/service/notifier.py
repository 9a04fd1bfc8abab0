"""Waking long-polling watchers when a newer revision is committed — by this process or, on
PostgreSQL, by any replica (``LISTEN``/``NOTIFY``)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading

import psycopg
from sqlalchemy.engine import make_url

from vifbind.service.storage.database import NOTIFY_CHANNEL

log = logging.getLogger(__name__)


class Notifier:
    """Tracks the newest committed revision and wakes the coroutines waiting for one.

    A commit only wakes the event loop when someone waits: the wake-up (a write to the loop's
    self-pipe) is a system call per commit, a few per cent of a bind's CPU, for nobody when no
    agent watches. The revision is set before the waiters are looked at, and a waiter is
    registered before the revision is looked at again, so that either the publisher sees the
    waiter or the waiter sees the revision."""

    def __init__(self, loop: asyncio.AbstractEventLoop, revision: int) -> None:
        self._loop = loop
        self._revision = revision
        self._lock = threading.Lock()
        self._waiters: set[asyncio.Future[int]] = set()

    @property
    def revision(self) -> int:
        """The newest revision known to be committed."""
        return self._revision

    def publish(self, revision: int) -> None:
        """Announce a committed revision; safe to call from any thread."""
        with self._lock:
            if revision <= self._revision:
                return
            self._revision = revision
        if self._waiters:
            self._loop.call_soon_threadsafe(self._wake)

    def _wake(self) -> None:
        waiters, self._waiters = self._waiters, set()
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(self._revision)

    async def wait_beyond(self, revision: int, timeout: float) -> bool:
        """Wait until a revision newer than ``revision`` is committed; ``False`` on timeout."""
        if self._revision > revision:
            return True
        waiter: asyncio.Future[int] = self._loop.create_future()
        self._waiters.add(waiter)
        try:
            if self._revision > revision:
                return True  # published while registering: the publisher may have seen no waiter
            await asyncio.wait_for(asyncio.shield(waiter), timeout)
        except TimeoutError:
            return False
        finally:
            self._waiters.discard(waiter)
        return True


class PostgresListener:
    """A thread that ``LISTEN``s for revisions committed by every replica and publishes them."""

    RECONNECT_DELAY = 1.0

    def __init__(self, db_url: str, notifier: Notifier) -> None:
        self._conninfo = (
            make_url(db_url).set(drivername="postgresql").render_as_string(hide_password=False)
        )
        self._notifier = notifier
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="vifbind-listen", daemon=True)
        self._connected = threading.Event()

    def start(self, timeout: float = 10.0) -> None:
        """Start listening; returns once the first ``LISTEN`` is in place."""
        self._thread.start()
        self._connected.wait(timeout)

    def stop(self) -> None:
        """Stop listening and join the thread."""
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with psycopg.connect(self._conninfo, autocommit=True) as conn:
                    conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
                    # Whatever was committed while not listening: make every watcher look again.
                    row = conn.execute(
                        "SELECT value FROM counters WHERE name = 'revision'"
                    ).fetchone()
                    if row is not None:
                        self._notifier.publish(int(row[0]))
                    self._connected.set()
                    while not self._stop.is_set():
                        for note in conn.notifies(timeout=0.5):
                            with contextlib.suppress(ValueError):
                                self._notifier.publish(int(note.payload))
            except psycopg.Error as exc:
                log.warning("LISTEN connection lost (%s); reconnecting", exc)
                self._stop.wait(self.RECONNECT_DELAY)
