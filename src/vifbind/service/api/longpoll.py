"""Long polling: answer at once when there is news, else wait for a newer revision."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

from fastapi.concurrency import run_in_threadpool

from vifbind.errors import ServiceUnavailable
from vifbind.service.state import ServiceState

T = TypeVar("T")


async def long_poll(
    state: ServiceState,
    query: Callable[[], T],
    revision_of: Callable[[T], int],
    ready: Callable[[T], bool],
    wait: float,
) -> T:
    """Run ``query`` until ``ready`` says its answer has news, waiting between runs for a
    revision beyond the answer's, for at most ``wait`` seconds (capped by the settings)."""
    notifier = state.notifier
    if notifier is None:
        raise ServiceUnavailable("the service is starting; try again")
    loop = asyncio.get_running_loop()
    deadline = loop.time() + min(wait, state.settings.max_wait)
    state.metrics.watch_clients.inc()
    try:
        while True:
            answer = await run_in_threadpool(query)
            remaining = deadline - loop.time()
            if ready(answer) or remaining <= 0:
                return answer
            if not await notifier.wait_beyond(revision_of(answer), remaining):
                return answer
    finally:
        state.metrics.watch_clients.dec()
