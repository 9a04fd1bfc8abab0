"""The one ethtool setting vifbind needs: TX checksum offload off on veths feeding userspace OVS.

A veth hands frames on with the checksum left for "hardware"; OVS's userspace datapath reads
them through AF_PACKET and forwards them unfilled, so the receiver drops every TCP segment
(TcpInCsumErrors) while ping still works. There is no ethtool binary on these hosts, so the
legacy ETHTOOL_STXCSUM ioctl is issued directly.
"""

from __future__ import annotations

import array
import fcntl
import struct
from pathlib import Path

from vifbind.host.namespaces import socket_in

SIOCETHTOOL = 0x8946
ETHTOOL_STXCSUM = 0x17


def disable_tx_checksum(netns: Path | None, ifname: str) -> None:
    """Turn TX checksum offload off on ``ifname`` in ``netns``; raise ``OSError`` on failure."""
    value = array.array("B", struct.pack("II", ETHTOOL_STXCSUM, 0))
    address, _ = value.buffer_info()
    request = struct.pack("16sP", ifname.encode(), address)
    with socket_in(netns) as sock:
        fcntl.ioctl(sock.fileno(), SIOCETHTOOL, request)
