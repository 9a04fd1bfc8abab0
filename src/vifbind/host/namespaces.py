"""Network namespaces: finding them, running a command in one, opening a socket in one.

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
from pathlib import Path

CLONE_NEWNET = 0x40000000

_libc = ctypes.CDLL(None, use_errno=True)


def run_in(netns: Path | None, argv: list[str], stdin: str | None = None) -> str:
    """Run ``argv`` inside ``netns`` (None: here); return stdout, raise ``OSError`` on failure.

    ``nsenter`` does the switch so that no thread of this process (ovsdbapp runs one) ever
    changes namespace.
    """
    command = argv if netns is None else ["nsenter", f"--net={netns}", "--", *argv]
    done = subprocess.run(  # noqa: S603 - fixed argv, never a shell
        command, input=stdin, capture_output=True, text=True, check=False, timeout=60
    )
    if done.returncode != 0:
        message = (done.stderr or done.stdout).strip().splitlines()
        raise OSError(f"{argv[0]} failed: {' / '.join(message[-3:]) or done.returncode}")
    return done.stdout


def socket_in(netns: Path | None) -> socket.socket:
    """An AF_INET datagram socket bound to ``netns`` (for device ioctls such as ethtool's).

    A socket belongs to the namespace it was created in, so a short-lived thread enters the
    namespace, creates it and ends; no other thread is affected.
    """
    if netns is None:
        return socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    made: list[socket.socket] = []
    failed: list[OSError] = []

    def enter_and_open() -> None:
        fd = os.open(netns, os.O_RDONLY)
        try:
            if _libc.setns(fd, CLONE_NEWNET) != 0:
                err = ctypes.get_errno()
                failed.append(OSError(err, f"setns {netns}: {os.strerror(err)}"))
                return
            made.append(socket.socket(socket.AF_INET, socket.SOCK_DGRAM))
        finally:
            os.close(fd)

    worker = threading.Thread(target=enter_and_open, name="vifbind-netns")
    worker.start()
    worker.join()
    if failed:
        raise failed[0]
    return made[0]
