"""Group commit: concurrent requests' writes made by one writer thread, in one transaction per
batch.

Each request's work runs in a savepoint of its own with its own revision, so that it is checked,
refused or rolled back exactly as in a transaction of its own; the batch then commits once and
the event loop is woken once to answer every request of the batch. A request is answered only
after the commit that holds its write (or with its own error, or the transaction's).

One request at a time, the service spent about a third of a decision's CPU outside the work
itself: handing it to a worker thread and back (a wake-up of each side), checking out a
connection, beginning and committing (BENCHMARKS.md, "Service: what limits it"). Requests that
arrive while a batch is being written wait for the next one, so batches grow with the load and
cost nothing more when there is none.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from vifbind.service.storage.database import Database, Outcome, WriteTx

log = logging.getLogger(__name__)

T = TypeVar("T")
MAX_BATCH = 64
"""Works per transaction: bounds how long the first of a batch waits for the last."""

_Item = tuple[Callable[[WriteTx], Any], "asyncio.Future[Any]"]


class GroupCommit:
    """A writer thread running the works submitted from the event loop, in batches."""

    def __init__(
        self,
        db: Database,
        loop: asyncio.AbstractEventLoop,
        on_commit: Callable[[int], None] = lambda _revision: None,
    ) -> None:
        self._db = db
        self._loop = loop
        self._on_commit = on_commit
        self._queue: queue.SimpleQueue[_Item | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="vifbind-writer", daemon=True)

    def start(self) -> None:
        """Start the writer thread."""
        self._thread.start()

    def stop(self) -> None:
        """Write what was submitted, then stop the writer thread."""
        self._queue.put(None)
        self._thread.join(timeout=30)

    async def write(self, work: Callable[[WriteTx], T]) -> T:
        """Run ``work`` in a write transaction of its own revision; its value once committed,
        or its error."""
        future: asyncio.Future[T] = self._loop.create_future()
        self._queue.put((work, future))
        return await future

    def _run(self) -> None:
        stopping = False
        while not stopping:
            item = self._queue.get()
            batch: list[_Item] = []
            while item is not None:
                batch.append(item)
                if len(batch) == MAX_BATCH:
                    break
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
            else:
                stopping = True
            if batch:
                self._write(batch)

    def _write(self, batch: list[_Item]) -> None:
        try:
            outcomes = self._db.write_each([work for work, _ in batch])
        except Exception as exc:  # the transaction's own failure: every request gets it
            outcomes = [Outcome(error=exc)] * len(batch)
        revisions = [o.revision for o in outcomes if o.revision is not None]
        try:
            if revisions:
                self._on_commit(max(revisions))
            self._loop.call_soon_threadsafe(_answer, batch, outcomes)
        except RuntimeError:  # the event loop is closed: nobody waits for these answers
            log.warning("event loop closed; %d committed writes left unanswered", len(batch))


def _answer(batch: list[_Item], outcomes: list[Outcome]) -> None:
    for (_, future), outcome in zip(batch, outcomes, strict=True):
        if future.done():  # the request was cancelled (its client went away)
            continue
        if outcome.error is not None:
            future.set_exception(outcome.error)
        else:
            future.set_result(outcome.value)
