"""A veth pair in one hand-built RTM_NEWLINK request: both ends named, with their MTUs, the
peer's MAC address and the peer's namespace (a guest's, by file descriptor) given at creation,
both ends down."""

from __future__ import annotations

import socket
from dataclasses import dataclass

from vifbind.host.rtnetlink import (
    IFINFO,
    IFLA_ADDRESS,
    IFLA_IFNAME,
    IFLA_INFO_DATA,
    IFLA_INFO_KIND,
    IFLA_LINKINFO,
    IFLA_MTU,
    IFLA_NET_NS_FD,
    NLM_F_CREATE,
    NLM_F_EXCL,
    RTM_NEWLINK,
    U32,
    VETH_INFO_PEER,
    Requests,
    attr,
)


@dataclass(frozen=True)
class VethPair:
    """The two ends of a veth pair to create."""

    name: str
    mtu: int
    peer_name: str
    peer_mtu: int
    peer_mac: str | None = None
    peer_netns_fd: int | None = None
    """A file descriptor of the peer's namespace; ``None``: the socket's own."""


def _ifname(name: str) -> bytes:
    return attr(IFLA_IFNAME, name.encode() + b"\0")


def encode(pair: VethPair) -> bytes:
    """The body of the RTM_NEWLINK request creating ``pair``."""
    peer = IFINFO.pack(socket.AF_UNSPEC, 0, 0, 0, 0)
    peer += _ifname(pair.peer_name) + attr(IFLA_MTU, U32.pack(pair.peer_mtu))
    if pair.peer_mac is not None:
        peer += attr(IFLA_ADDRESS, bytes.fromhex(pair.peer_mac.replace(":", "")))
    if pair.peer_netns_fd is not None:
        peer += attr(IFLA_NET_NS_FD, U32.pack(pair.peer_netns_fd))
    # Nested attributes without the NLA_F_NESTED flag, as iproute2 sends them.
    info = attr(IFLA_INFO_KIND, b"veth\0") + attr(IFLA_INFO_DATA, attr(VETH_INFO_PEER, peer))
    return (
        IFINFO.pack(socket.AF_UNSPEC, 0, 0, 0, 0)
        + _ifname(pair.name)
        + attr(IFLA_MTU, U32.pack(pair.mtu))
        + attr(IFLA_LINKINFO, info)
    )


def create_pair(requests: Requests, pair: VethPair) -> None:
    """Create ``pair``; ``OSError`` with the kernel's errno if it refuses (``EEXIST``: a name
    is taken)."""
    requests.call(RTM_NEWLINK, encode(pair), NLM_F_CREATE | NLM_F_EXCL)
