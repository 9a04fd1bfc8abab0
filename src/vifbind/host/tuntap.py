"""Persistent tap devices, created with the tun driver's ioctls in the host's namespace.

Netlink cannot create a tap; the device is made by TUNSETIFF on a /dev/net/tun file, in the
network namespace that file was opened in. Entering a namespace takes a thread of its own, so
the files are opened there in batches (one thread per batch, not per tap) and the taps are
made from here.
"""

from __future__ import annotations

import fcntl
import os
import struct
import threading
from pathlib import Path

from vifbind.host.namespaces import in_namespace

TUNSETIFF = 0x400454CA
TUNSETPERSIST = 0x400454CB
IFF_TAP = 0x0002
IFF_NO_PI = 0x1000
IFF_VNET_HDR = 0x4000
BATCH = 64
"""/dev/net/tun files opened in the namespace at once."""


class TapMaker:
    """Makes persistent taps in ``netns`` (None: here)."""

    def __init__(self, netns: Path | None) -> None:
        self.netns = netns
        self._files: list[int] = []
        self._lock = threading.Lock()

    def create(self, name: str) -> None:
        """Create the persistent tap ``name``, as QEMU expects to open it when libvirt does
        not manage it (``managed='no'``): no packet information header, virtio-net header on.
        Raises ``OSError`` on failure."""
        request = struct.pack("16sH", name.encode(), IFF_TAP | IFF_NO_PI | IFF_VNET_HDR)
        fd = self._take()
        try:
            fcntl.ioctl(fd, TUNSETIFF, request)
            fcntl.ioctl(fd, TUNSETPERSIST, 1)
        finally:
            os.close(fd)

    def close(self) -> None:
        """Close the files opened ahead."""
        with self._lock:
            files, self._files = self._files, []
        for fd in files:
            os.close(fd)

    def _take(self) -> int:
        with self._lock:
            if not self._files:
                opened: list[int] = []

                def open_files() -> None:
                    opened.extend(os.open("/dev/net/tun", os.O_RDWR) for _ in range(BATCH))

                try:
                    in_namespace(self.netns, open_files)
                except OSError:
                    for fd in opened:
                        os.close(fd)
                    raise
                self._files = opened
            return self._files.pop()
