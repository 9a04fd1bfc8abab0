"""The notifier that wakes long polls: revisions published from writer threads reach the
waiters on the event loop, and a commit with nobody waiting does not wake the loop."""

from __future__ import annotations

import asyncio
import threading

from vifbind.service.notifier import Notifier


def test_a_waiter_is_woken_by_a_revision_published_from_another_thread() -> None:
    async def scenario() -> bool:
        notifier = Notifier(asyncio.get_running_loop(), 5)
        waiting = asyncio.create_task(notifier.wait_beyond(5, timeout=30))
        await asyncio.sleep(0)  # the waiter registers
        threading.Thread(target=notifier.publish, args=(6,)).start()
        return await waiting

    assert asyncio.run(scenario()) is True


def test_a_revision_published_before_the_wait_answers_at_once() -> None:
    async def scenario() -> tuple[bool, int]:
        notifier = Notifier(asyncio.get_running_loop(), 5)
        publisher = threading.Thread(target=notifier.publish, args=(7,))
        publisher.start()
        publisher.join()
        return await notifier.wait_beyond(6, timeout=30), notifier.revision

    assert asyncio.run(scenario()) == (True, 7)


def test_without_a_newer_revision_the_wait_times_out() -> None:
    async def scenario() -> bool:
        notifier = Notifier(asyncio.get_running_loop(), 5)
        notifier.publish(4)  # older than what is known: ignored
        return await notifier.wait_beyond(5, timeout=0.05)

    assert asyncio.run(scenario()) is False


def test_a_commit_with_nobody_waiting_does_not_wake_the_loop() -> None:
    class CountingLoop(asyncio.SelectorEventLoop):
        wake_ups = 0

        def call_soon_threadsafe(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            CountingLoop.wake_ups += 1
            return super().call_soon_threadsafe(*args, **kwargs)

    loop = CountingLoop()
    try:
        notifier = Notifier(loop, 1)
        for revision in range(2, 50):
            notifier.publish(revision)
        woken = loop.run_until_complete(notifier.wait_beyond(48, timeout=30))
    finally:
        loop.close()
    assert (woken, notifier.revision, CountingLoop.wake_ups) == (True, 49, 0)
