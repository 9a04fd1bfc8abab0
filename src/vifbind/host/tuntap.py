"""Persistent tap devices, created with the tun driver's ioctls inside the host's namespace.

Netlink cannot create a tap; the device is made by TUNSETIFF on /dev/net/tun, which creates it
in the namespace of the calling thread, so that thread enters the host's namespace first.
"""

from __future__ import annotations

import fcntl
import os
import struct
from pathlib import Path

from vifbind.host.namespaces import in_namespace

TUNSETIFF = 0x400454CA
TUNSETPERSIST = 0x400454CB
IFF_TAP = 0x0002
IFF_NO_PI = 0x1000
IFF_VNET_HDR = 0x4000


def create_tap(netns: Path | None, name: str) -> None:
    """Create the persistent tap ``name`` in ``netns`` (None: here), as QEMU expects to open
    it when libvirt does not manage it (``managed='no'``): no packet information header,
    virtio-net header on. Raises ``OSError`` on failure."""
    request = struct.pack("16sH", name.encode(), IFF_TAP | IFF_NO_PI | IFF_VNET_HDR)

    def make() -> None:
        fd = os.open("/dev/net/tun", os.O_RDWR)
        try:
            fcntl.ioctl(fd, TUNSETIFF, request)
            fcntl.ioctl(fd, TUNSETPERSIST, 1)
        finally:
            os.close(fd)

    in_namespace(netns, make)
