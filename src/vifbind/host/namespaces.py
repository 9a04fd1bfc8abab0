"""Network namespaces: running a command, a socket or a function in one.

The host's devices may live in a named namespace (``HostConfig.netns``) and netns guests are
named namespaces too; everything here takes the namespace's file, or ``None`` for the agent's
own namespace.
"""

from __future__ import annotations

import ctypes
import os
import socket
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path

CLONE_NEWNET = 0x40000000

_libc = ctypes.CDLL(None, use_errno=True)


RUN_TIMEOUT = 60.0
"""Seconds a host tool or an nft command may take: a hung one fails its ports instead of
stopping the agent."""


def run_in(netns: Path | None, argv: list[str], stdin: str | None = None) -> str:
    """Run ``argv`` inside ``netns`` (None: here); return stdout, raise ``OSError`` on failure.

    ``nsenter`` does the switch so that no thread of this process (ovsdbapp runs one) ever
    changes namespace.
    """
    command = argv if netns is None else ["nsenter", f"--net={netns}", "--", *argv]
    try:
        done = subprocess.run(  # noqa: S603 - fixed argv, never a shell
            command, input=stdin, capture_output=True, text=True, check=False, timeout=RUN_TIMEOUT
        )
    except subprocess.TimeoutExpired:
        raise OSError(f"{argv[0]} did not finish within {RUN_TIMEOUT:g} s") from None
    if done.returncode != 0:
        message = (done.stderr or done.stdout).strip().splitlines()
        raise OSError(f"{argv[0]} failed: {' / '.join(message[-3:]) or done.returncode}")
    return done.stdout


def socket_in(
    netns: Path | None,
    family: int = socket.AF_INET,
    kind: int = socket.SOCK_DGRAM,
    proto: int = 0,
) -> socket.socket:
    """A socket bound to ``netns`` (netlink, or AF_INET for device ioctls such as ethtool's).

    A socket belongs to the namespace it was created in, so a short-lived thread enters the
    namespace, creates it and ends; no other thread is affected. (About 1 ms, where a helper
    process costs several.)
    """
    made: list[socket.socket] = []
    in_namespace(netns, lambda: made.append(socket.socket(family, kind, proto)))
    return made[0]


def in_namespace(netns: Path | None, action: Callable[[], None]) -> None:
    """Run ``action`` in a thread of its own inside ``netns`` (here when ``None``)."""
    if netns is None:
        action()
        return
    failed: list[BaseException] = []

    def enter_and_run() -> None:
        try:
            enter(netns)
            action()
        except BaseException as exc:  # handed to the caller's thread below
            failed.append(exc)

    worker = threading.Thread(target=enter_and_run, name="vifbind-netns")
    worker.start()
    worker.join()
    if failed:
        raise failed[0]


def enter(netns: Path) -> None:
    """Move the calling thread (only it) into ``netns``; ``OSError`` when it cannot."""
    fd = os.open(netns, os.O_RDONLY)
    try:
        if _libc.setns(fd, CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"setns {netns}: {os.strerror(err)}")
    finally:
        os.close(fd)


def open_namespace(netns: Path) -> int:
    """A file descriptor of ``netns`` (the caller closes it), for requests that name a
    namespace by file (IFLA_NET_NS_FD)."""
    return os.open(netns, os.O_RDONLY | os.O_CLOEXEC)
