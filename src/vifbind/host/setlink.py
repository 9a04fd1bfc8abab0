"""RTM_SETLINK and RTM_DELLINK requests built by hand: the plug's hot path (mark, rename,
enslave, bring up, group for deletion) and removal send one small message per device (or
group) and read the kernel's answer, in tens of microseconds, where pyroute2 spends about half
a millisecond per request."""

from __future__ import annotations

import socket
from dataclasses import dataclass

from vifbind.host.rtnetlink import (
    IFF_UP,
    IFINFO,
    IFLA_GROUP,
    IFLA_IFALIAS,
    IFLA_IFNAME,
    IFLA_MASTER,
    IFLA_MTU,
    RTM_DELLINK,
    RTM_SETLINK,
    U32,
    Requests,
    attr,
)


@dataclass(frozen=True)
class LinkChange:
    """What one request changes on one device (``None``: left as it is)."""

    ifname: str | None = None
    ifalias: str | None = None
    mtu: int | None = None
    master: int | None = None
    """Index of the new master; 0 takes the device off its master."""
    group: int | None = None
    up: bool = False


def encode(index: int, change: LinkChange) -> bytes:
    """The body of the RTM_SETLINK request making ``change`` to device ``index``."""
    attrs = b""
    if change.ifname is not None:
        attrs += attr(IFLA_IFNAME, change.ifname.encode() + b"\0")
    if change.ifalias is not None:
        attrs += attr(IFLA_IFALIAS, change.ifalias.encode() + b"\0")
    for kind, value in ((IFLA_MTU, change.mtu), (IFLA_MASTER, change.master),
                        (IFLA_GROUP, change.group)):  # fmt: skip
        if value is not None:
            attrs += attr(kind, U32.pack(value))
    flags = IFF_UP if change.up else 0
    return IFINFO.pack(socket.AF_UNSPEC, 0, index, flags, flags) + attrs


def set_link(requests: Requests, index: int, change: LinkChange) -> None:
    """Apply ``change`` to device ``index`` of the namespace of ``requests``' socket;
    ``OSError`` with the kernel's errno if it refuses."""
    requests.call(RTM_SETLINK, encode(index, change))


def delete_link(requests: Requests, index: int) -> None:
    """Delete device ``index``; ``OSError`` with the kernel's errno if it refuses."""
    requests.call(RTM_DELLINK, IFINFO.pack(socket.AF_UNSPEC, 0, index, 0, 0))


def delete_group(requests: Requests, group: int) -> None:
    """Delete every device of ``group`` at once (the kernel waits for its RCU grace period once
    for all of them, not once per device); ``OSError`` if it refuses."""
    body = IFINFO.pack(socket.AF_UNSPEC, 0, 0, 0, 0) + attr(IFLA_GROUP, U32.pack(group))
    requests.call(RTM_DELLINK, body)
