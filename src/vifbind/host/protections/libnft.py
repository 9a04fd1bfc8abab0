"""nft commands through nftables' own library (``libnftables``), in the agent's nft worker: one
process (``nft_worker.py``) started once in the host's namespace and kept, where an ``nft``
process per command cost 5 to 8 ms of start-up before its first request (15 ms with the
namespace switch in front of it), twice for a protected port's plug (the listing of the chains,
then the batch).

The worker is a process rather than a thread of the agent because nft reads the host's
ruleset into memory for each command: tens of MiB with thousands of chains, which would stay
in the agent's resident memory.
"""

from __future__ import annotations

import contextlib
import os
import select
import subprocess
import sys
import threading
import time
import weakref
from pathlib import Path
from typing import IO, cast

from vifbind.host import namespaces
from vifbind.host.protections.nft_worker import DRY_RUN, FRAME, JSON, OK, write_frame

WORKER = Path(__file__).with_name("nft_worker.py")


class Libnft:
    """nft commands run in ``netns`` (``None``: the agent's own) by the agent's nft worker."""

    def __init__(self, netns: Path | None) -> None:
        self.netns = netns
        self._lock = threading.Lock()
        self._worker: subprocess.Popen[bytes] | None = None

    def run(self, command: str, *, json: bool = False, dry_run: bool = False) -> str:
        """Run ``command`` (nft's syntax, or a JSON document with ``json``); its output.

        ``dry_run`` checks the command without changing anything (``nft --check``). Raises
        ``OSError`` with nft's message when nft refuses it, when the library cannot be loaded
        or the namespace entered, and when it takes longer than ``RUN_TIMEOUT`` (the worker is
        then stopped, and the next command starts another)."""
        flags = (JSON if json else 0) | (DRY_RUN if dry_run else 0)
        with self._lock:
            worker = self._started()
            try:
                try:
                    write_frame(cast(IO[bytes], worker.stdin), bytes([flags]) + command.encode())
                except BrokenPipeError:  # it ended before reading (no namespace, no library)
                    raise OSError(f"the nft worker ended: {_said(worker)}") from None
                answer = _receive(worker)
            except OSError:
                worker.kill()  # stuck or broken: nothing it says now can be trusted
                self._stop()
                raise
        text = str(memoryview(answer)[1:], "utf-8", "replace")
        if answer[:1] != OK:
            raise OSError(text)
        return text

    @property
    def worker_pid(self) -> int | None:
        """The worker's process id, while it runs."""
        worker = self._worker
        return worker.pid if worker is not None and worker.poll() is None else None

    def close(self) -> None:
        """Stop the worker (a later command starts another)."""
        with self._lock:
            self._stop()

    def _started(self) -> subprocess.Popen[bytes]:
        if self._worker is not None and self._worker.poll() is None:
            return self._worker
        command = [sys.executable, "-I", "-S", str(WORKER)]
        if self.netns is not None:
            command = ["nsenter", f"--net={self.netns}", "--", *command]
        self._worker = subprocess.Popen(  # noqa: S603 - fixed argv, never a shell
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        weakref.finalize(self, _end, self._worker)
        return self._worker

    def _stop(self) -> None:
        worker, self._worker = self._worker, None
        if worker is not None:
            _end(worker)


def _receive(worker: subprocess.Popen[bytes]) -> bytearray:
    """The worker's next answer, waiting at most ``RUN_TIMEOUT``."""
    fd = cast(IO[bytes], worker.stdout).fileno()
    deadline = time.monotonic() + namespaces.RUN_TIMEOUT
    head = _read_exactly(worker, fd, bytearray(FRAME.size), deadline)
    return _read_exactly(worker, fd, bytearray(FRAME.unpack(head)[0]), deadline)


def _read_exactly(
    worker: subprocess.Popen[bytes], fd: int, into: bytearray, deadline: float
) -> bytearray:
    """Fill ``into`` from ``fd`` (read in place: an answer can be a megabyte of chains)."""
    view, filled = memoryview(into), 0
    while filled < len(into):
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            raise OSError(f"nft did not finish within {namespaces.RUN_TIMEOUT:g} s")
        got = os.readv(fd, [view[filled:]])
        if not got:
            raise OSError(f"the nft worker ended: {_said(worker)}")
        filled += got
    return into


def _said(worker: subprocess.Popen[bytes]) -> str:
    """Why the worker ended: its last words, or its exit status."""
    try:
        worker.wait(timeout=1)
    except subprocess.TimeoutExpired:
        worker.kill()
    stderr = worker.stderr.read().decode(errors="replace") if worker.stderr else ""
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    return lines[-1] if lines else f"exit status {worker.returncode}"


def _end(worker: subprocess.Popen[bytes]) -> None:
    """End the worker: its input closed, it stops on its own; killed if it does not."""
    for stream in (worker.stdin, worker.stdout, worker.stderr):
        if stream is not None:
            with contextlib.suppress(OSError):  # a request it never read: a broken pipe
                stream.close()
    try:
        worker.wait(timeout=2)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()
