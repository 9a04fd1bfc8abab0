"""The rtnetlink wire format that vifbind's hand-built messages share: the hot path's
RTM_SETLINK requests (``setlink``), veth pairs (``veth``) and the lean device and FDB dumps
(``linkdump``); and ``Requests``, which sends one request at a time on a socket and reads the
kernel's answer.

Only the few message types, flags and attributes those use; values from the kernel's
``linux/netlink.h``, ``linux/rtnetlink.h``, ``linux/if_link.h`` and ``linux/veth.h``.
"""

from __future__ import annotations

import itertools
import os
import socket
import struct
from collections.abc import Iterator

HEADER = struct.Struct("=IHHII")  # nlmsghdr: length, type, flags, sequence, port
IFINFO = struct.Struct("=BxHiII")  # ifinfomsg: family, device type, index, flags, change mask
ATTR = struct.Struct("=HH")  # rtattr: length, type
U32 = struct.Struct("=I")

NLMSG_ERROR = 2
NLMSG_DONE = 3
RTM_NEWLINK = 16
RTM_DELLINK = 17
RTM_GETLINK = 18
RTM_SETLINK = 19
RTM_NEWNEIGH = 28
RTM_GETNEIGH = 30

NLM_F_REQUEST = 0x1
NLM_F_ACK = 0x4
NLM_F_DUMP_INTR = 0x10
NLM_F_DUMP = 0x300
NLM_F_EXCL = 0x200
NLM_F_CREATE = 0x400
NLA_TYPE_MASK = 0x3FFF  # without the nested / byte-order flags
IFF_UP = 0x1

IFLA_ADDRESS = 1
IFLA_IFNAME = 3
IFLA_MTU = 4
IFLA_LINK = 5
IFLA_MASTER = 10
IFLA_LINKINFO = 18
IFLA_IFALIAS = 20
IFLA_GROUP = 27
IFLA_NET_NS_FD = 28
IFLA_EXT_MASK = 29
IFLA_INFO_KIND = 1
IFLA_INFO_DATA = 2
VETH_INFO_PEER = 1


def align(length: int) -> int:
    """``length`` rounded up to netlink's 4-byte alignment."""
    return (length + 3) & ~3


def attr(kind: int, payload: bytes) -> bytes:
    """One attribute, padded to the alignment."""
    length = ATTR.size + len(payload)
    return ATTR.pack(length, kind) + payload + b"\0" * (align(length) - length)


def attrs(data: bytes, start: int, end: int) -> Iterator[tuple[int, int, int]]:
    """(type, value start, value end) of each attribute between ``start`` and ``end``."""
    offset = start
    while offset + ATTR.size <= end:
        length, kind = ATTR.unpack_from(data, offset)
        if length < ATTR.size:
            return
        yield kind & NLA_TYPE_MASK, offset + ATTR.size, offset + length
        offset += align(length)


def text(data: bytes, start: int, end: int) -> str:
    """A string attribute's value (up to its terminating NUL)."""
    return data[start:end].split(b"\0", 1)[0].decode(errors="replace")


def message(kind: int, flags: int, sequence: int, body: bytes) -> bytes:
    """A netlink message of ``kind`` around ``body``."""
    return HEADER.pack(HEADER.size + len(body), kind, flags, sequence, 0) + body


def error_code(data: bytes, offset: int) -> int:
    """The (positive) errno of the NLMSG_ERROR message at ``offset``; 0 is an acknowledgement."""
    (error,) = struct.unpack_from("=i", data, offset + HEADER.size)
    return -int(error)


class Requests:
    """Requests on one rtnetlink socket (of the namespace it was made in), one at a time: each
    is sent with an acknowledgement asked for, and its answers are read up to that
    acknowledgement. Tens of microseconds each, where pyroute2 spends about half a millisecond
    per request."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self._sequence = itertools.count(1)

    def call(self, kind: int, body: bytes, flags: int = 0) -> list[tuple[int, bytes]]:
        """Send one ``kind`` request of ``body``; the (type, body) of each message answering it
        before the acknowledgement. ``OSError`` with the kernel's errno if it refuses."""
        sequence = next(self._sequence)
        self.sock.send(message(kind, NLM_F_REQUEST | NLM_F_ACK | flags, sequence, body))
        answers: list[tuple[int, bytes]] = []
        while True:
            data = self.sock.recv(65536)
            offset = 0
            while offset + HEADER.size <= len(data):
                length, answer, _, seq, _ = HEADER.unpack_from(data, offset)
                if seq == sequence:
                    if answer == NLMSG_ERROR:
                        error = error_code(data, offset)
                        if error:
                            raise OSError(error, os.strerror(error))
                        return answers
                    answers.append((answer, data[offset + HEADER.size : offset + length]))
                offset += max(align(length), HEADER.size)

    def close(self) -> None:
        """Close the socket."""
        self.sock.close()
