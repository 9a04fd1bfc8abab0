"""Every device of a namespace in one ``RTM_GETLINK`` dump, parsed for the few attributes vifbind
compares: name, kind, alias (the ownership mark), MTU, up, master, a veth's peer, and a VXLAN
device's id and local address; and the VXLAN devices' flood entries in one bridge FDB dump.
One device is read the same way, by name or index (``get_link``).

pyroute2 decodes every attribute of every device (statistics, per-family data, …): about
0.1 ms a device, so that reading a host of thousands of devices took longer than changing one.
This reads the same dump (statistics left out by the kernel: ``RTEXT_FILTER_SKIP_STATS``) and
skips what it does not need by length. Likewise the FDB: one entry per guest MAC on every
bridge, read once for all VXLAN devices rather than once per device.
"""

from __future__ import annotations

import errno
import socket
import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from vifbind.errors import PlugError
from vifbind.host.rtnetlink import (
    HEADER,
    IFF_UP,
    IFINFO,
    IFLA_EXT_MASK,
    IFLA_IFALIAS,
    IFLA_IFNAME,
    IFLA_INFO_DATA,
    IFLA_INFO_KIND,
    IFLA_LINK,
    IFLA_LINKINFO,
    IFLA_MASTER,
    IFLA_MTU,
    NLM_F_DUMP,
    NLM_F_DUMP_INTR,
    NLM_F_REQUEST,
    NLMSG_DONE,
    NLMSG_ERROR,
    RTM_GETLINK,
    RTM_GETNEIGH,
    RTM_NEWLINK,
    RTM_NEWNEIGH,
    U32,
    Requests,
    align,
    attr,
    attrs,
    error_code,
    message,
    text,
)

NDMSG = struct.Struct("=BxxxiHBB")  # family, index, state, flags, type

IFLA_VXLAN_ID = 1
IFLA_VXLAN_LOCAL = 4
RTEXT_FILTER_SKIP_STATS = 1 << 3
NDA_DST = 1
NDA_LLADDR = 2
FLOOD_MAC = b"\0" * 6

RECEIVE = 1 << 17
T = TypeVar("T")
ATTEMPTS = 5  # a dump interrupted by a concurrent change is read again


@dataclass(frozen=True, slots=True)
class RawLink:
    """One device as the dump has it (``master`` is an index)."""

    name: str
    index: int
    kind: str
    alias: str
    mtu: int
    up: bool
    master: int
    vni: int | None
    local: str | None
    peer: int = 0
    """A veth's peer (IFLA_LINK): its index in the peer's namespace."""


def _request(index: int = 0, name: str | None = None) -> bytes:
    body = IFINFO.pack(socket.AF_UNSPEC, 0, index, 0, 0)
    body += attr(IFLA_EXT_MASK, U32.pack(RTEXT_FILTER_SKIP_STATS))
    if name is not None:
        body += attr(IFLA_IFNAME, name.encode() + b"\0")
    return body


def dump_links(sock: socket.socket) -> list[RawLink]:
    """Every device of the namespace ``sock`` (a ``NETLINK_ROUTE`` socket) belongs to."""
    return _dump(sock, RTM_GETLINK, RTM_NEWLINK, _request(), "link", _link)


def get_link(requests: Requests, *, name: str | None = None, index: int = 0) -> RawLink | None:
    """The device called ``name`` or numbered ``index``; ``None`` when there is none."""
    try:
        answers = requests.call(RTM_GETLINK, _request(index, name))
    except OSError as exc:
        if exc.errno in (errno.ENODEV, errno.ENOENT):
            return None
        raise PlugError(f"device {name or index}: {exc.strerror}") from None
    for kind, body in answers:
        if kind == RTM_NEWLINK:
            return _link(body, 0, len(body))
    return None


def dump_flood_peers(sock: socket.socket) -> dict[int, set[str]]:
    """The remote endpoints of the all-zero (flood) FDB entries, by device index."""
    request = NDMSG.pack(socket.AF_BRIDGE, 0, 0, 0, 0)
    peers: dict[int, set[str]] = {}
    for entry in _dump(sock, RTM_GETNEIGH, RTM_NEWNEIGH, request, "FDB", _flood_peer):
        if entry is not None:
            peers.setdefault(entry[0], set()).add(entry[1])
    return peers


def _flood_peer(data: bytes, start: int, end: int) -> tuple[int, str] | None:
    """(device index, remote endpoint) of a flood FDB entry; ``None`` for any other entry."""
    _, index, _, _, _ = NDMSG.unpack_from(data, start)
    mac = dst = None
    for kind_of, value_start, value_end in attrs(data, start + NDMSG.size, end):
        if kind_of == NDA_LLADDR:
            mac = data[value_start:value_end]
        elif kind_of == NDA_DST:
            dst = data[value_start:value_end]
    if mac != FLOOD_MAC or not dst:
        return None
    family = socket.AF_INET if len(dst) == 4 else socket.AF_INET6
    return index, socket.inet_ntop(family, dst)


def _dump(
    sock: socket.socket,
    request: int,
    answer: int,
    body: bytes,
    what: str,
    parse: Callable[[bytes, int, int], T],
) -> list[T]:
    """Each ``answer`` message of one complete dump, parsed (``parse(buffer, start, end)``) as
    it is received: the raw messages of thousands of devices are megabytes."""
    for _ in range(ATTEMPTS):
        found, interrupted = _dump_once(sock, request, answer, body, parse)
        if not interrupted:
            return found
    raise PlugError(f"{what} dump interrupted by changes {ATTEMPTS} times in a row")


def _dump_once(
    sock: socket.socket,
    request: int,
    answer: int,
    body: bytes,
    parse: Callable[[bytes, int, int], T],
) -> tuple[list[T], bool]:
    sequence = 1
    sock.send(message(request, NLM_F_REQUEST | NLM_F_DUMP, sequence, body))
    found: list[T] = []
    interrupted = False
    while True:
        data = sock.recv(RECEIVE)
        offset = 0
        while offset + HEADER.size <= len(data):
            length, kind, flags, _, _ = HEADER.unpack_from(data, offset)
            if length < HEADER.size:
                raise PlugError("link dump: malformed netlink message")
            interrupted |= bool(flags & NLM_F_DUMP_INTR)
            if kind == NLMSG_DONE:
                return found, interrupted
            if kind == NLMSG_ERROR:
                error = error_code(data, offset)
                raise PlugError(f"netlink dump: {errno.errorcode.get(error, error)}")
            if kind == answer:
                found.append(parse(data, offset + HEADER.size, offset + length))
            offset += align(length)


def _link(data: bytes, start: int, end: int) -> RawLink:
    _, _, index, flags, _ = IFINFO.unpack_from(data, start)
    name = alias = kind = ""
    mtu = master = peer = 0
    vni: int | None = None
    local: str | None = None
    for kind_of, value_start, value_end in attrs(data, start + IFINFO.size, end):
        if kind_of == IFLA_IFNAME:
            name = text(data, value_start, value_end)
        elif kind_of == IFLA_MTU:
            (mtu,) = U32.unpack_from(data, value_start)
        elif kind_of == IFLA_MASTER:
            (master,) = U32.unpack_from(data, value_start)
        elif kind_of == IFLA_IFALIAS:
            alias = text(data, value_start, value_end)
        elif kind_of == IFLA_LINKINFO:
            kind, vni, local = _linkinfo(data, value_start, value_end)
        elif kind_of == IFLA_LINK:
            (peer,) = U32.unpack_from(data, value_start)
    up = bool(flags & IFF_UP)
    return RawLink(name, index, kind, alias, mtu, up, master, vni, local, peer)


def _linkinfo(data: bytes, start: int, end: int) -> tuple[str, int | None, str | None]:
    kind = ""
    info: tuple[int, int] | None = None
    for kind_of, value_start, value_end in attrs(data, start, end):
        if kind_of == IFLA_INFO_KIND:
            kind = text(data, value_start, value_end)
        elif kind_of == IFLA_INFO_DATA:
            info = (value_start, value_end)
    vni: int | None = None
    local: str | None = None
    if kind == "vxlan" and info is not None:
        for kind_of, value_start, value_end in attrs(data, *info):
            if kind_of == IFLA_VXLAN_ID:
                (vni,) = U32.unpack_from(data, value_start)
            elif kind_of == IFLA_VXLAN_LOCAL and value_end - value_start == 4:
                local = socket.inet_ntoa(data[value_start:value_end])
    return kind, vni, local
