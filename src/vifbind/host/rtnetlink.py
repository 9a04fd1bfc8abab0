"""The rtnetlink wire format that vifbind's hand-built messages share: the hot path's
RTM_SETLINK requests (``setlink``) and the lean device and FDB dumps (``linkdump``).

Only the few message types, flags and attributes those use; values from the kernel's
``linux/netlink.h``, ``linux/rtnetlink.h`` and ``linux/if_link.h``.
"""

from __future__ import annotations

import struct

HEADER = struct.Struct("=IHHII")  # nlmsghdr: length, type, flags, sequence, port
IFINFO = struct.Struct("=BxHiII")  # ifinfomsg: family, device type, index, flags, change mask
ATTR = struct.Struct("=HH")  # rtattr: length, type
U32 = struct.Struct("=I")

NLMSG_ERROR = 2
NLMSG_DONE = 3
RTM_NEWLINK = 16
RTM_GETLINK = 18
RTM_SETLINK = 19
RTM_NEWNEIGH = 28
RTM_GETNEIGH = 30

NLM_F_REQUEST = 0x1
NLM_F_ACK = 0x4
NLM_F_DUMP_INTR = 0x10
NLM_F_DUMP = 0x300
NLA_TYPE_MASK = 0x3FFF  # without the nested / byte-order flags
IFF_UP = 0x1

IFLA_IFNAME = 3
IFLA_MTU = 4
IFLA_MASTER = 10
IFLA_LINKINFO = 18
IFLA_IFALIAS = 20
IFLA_GROUP = 27
IFLA_EXT_MASK = 29


def align(length: int) -> int:
    """``length`` rounded up to netlink's 4-byte alignment."""
    return (length + 3) & ~3


def attr(kind: int, payload: bytes) -> bytes:
    """One attribute, padded to the alignment."""
    length = ATTR.size + len(payload)
    return ATTR.pack(length, kind) + payload + b"\0" * (align(length) - length)


def message(kind: int, flags: int, sequence: int, body: bytes) -> bytes:
    """A netlink message of ``kind`` around ``body``."""
    return HEADER.pack(HEADER.size + len(body), kind, flags, sequence, 0) + body


def error_code(data: bytes, offset: int) -> int:
    """The (positive) errno of the NLMSG_ERROR message at ``offset``; 0 is an acknowledgement."""
    (error,) = struct.unpack_from("=i", data, offset + HEADER.size)
    return -int(error)
