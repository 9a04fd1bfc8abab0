"""The lean dumps read what pyroute2's full decoding reads, for every kind of device vifbind
makes: names, kinds, marks, MTUs, up/down, masters, VXLAN ids and local addresses, and the
VXLAN devices' flood entries among the bridge's other FDB entries — and stay right on a
namespace of hundreds of devices (dumps over several messages)."""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pyroute2 import IPRoute

from vifbind.host.namespaces import socket_in
from vifbind.host.netlink import LinkState, Netlink

from guests import Namespace

pytestmark = pytest.mark.e2e


def pyroute2_states(netns: Path) -> dict[str, object]:
    ipr = IPRoute(fileno=socket_in(netns, socket.AF_NETLINK, socket.SOCK_DGRAM).detach())
    try:
        raw = list(ipr.get_links())
    finally:
        ipr.close()
    names = {msg["index"]: msg.get("IFLA_IFNAME") for msg in raw}
    return {state.name: state for state in (pyroute2_state(msg, names) for msg in raw)}


def pyroute2_state(msg: Any, names: dict[int, str]) -> LinkState:
    """A device as pyroute2 decodes it: the reference the lean dump is held to."""
    info = msg.get("IFLA_LINKINFO")
    kind = info.get("IFLA_INFO_KIND") if info is not None else None
    data = info.get("IFLA_INFO_DATA") if info is not None else None
    vxlan = kind == "vxlan" and data is not None
    master = msg.get("IFLA_MASTER")
    return LinkState(
        name=msg.get("IFLA_IFNAME"),
        index=msg["index"],
        kind="tap" if kind == "tun" else kind or "",
        alias=msg.get("IFLA_IFALIAS") or "",
        mtu=msg.get("IFLA_MTU"),
        up=bool(msg["flags"] & 1),
        master=names.get(master) if master else None,
        vni=data.get("IFLA_VXLAN_ID") if vxlan else None,
        local=data.get("IFLA_VXLAN_LOCAL") if vxlan else None,
        group=msg.get("IFLA_GROUP") or 0,
    )


def pyroute2_flood(netns: Path, index: int) -> set[str]:
    ipr = IPRoute(fileno=socket_in(netns, socket.AF_NETLINK, socket.SOCK_DGRAM).detach())
    try:
        return {
            entry.get("NDA_DST")
            for entry in ipr.fdb("dump", ifindex=index)
            if entry.get("NDA_LLADDR") == "00:00:00:00:00:00" and entry.get("NDA_DST")
        }
    finally:
        ipr.close()


def test_the_dump_reads_what_pyroute2_decodes(netns: Callable[[str], Namespace]) -> None:
    ns = netns("dump")
    ns.ip("link", "add", "br-t", "type", "bridge")
    ns.ip("link", "set", "br-t", "alias", "vifbind:net:n1", "up")
    ns.ip("link", "add", "vx-t", "mtu", "1450", "type", "vxlan", "id", "4242",
          "local", "198.51.100.7", "dstport", "4789")  # fmt: skip
    ns.ip("link", "set", "vx-t", "master", "br-t")
    ns.ip("tuntap", "add", "dev", "tap-t", "mode", "tap")
    ns.ip("link", "set", "tap-t", "alias", "vifbind:port-1", "mtu", "1400", "master", "br-t", "up")
    for i in range(150):
        ns.ip("link", "add", f"qvb{i}", "type", "veth", "peer", "name", f"qvo{i}")
        ns.ip("link", "set", f"qvb{i}", "alias", f"vifbind:p{i}", "mtu", str(1300 + i))
    for peer in ("198.51.100.8", "198.51.100.9"):
        ns.exec("bridge", "fdb", "append", "00:00:00:00:00:00", "dev", "vx-t", "dst", peer)
    ns.exec("bridge", "fdb", "append", "02:00:00:00:00:01", "dev", "vx-t", "dst", "198.51.100.10")
    ns.ip("link", "add", "vx-u", "type", "vxlan", "id", "4243", "dstport", "4790")
    path = Path("/run/netns") / ns.name
    netlink = Netlink(path)
    try:
        lean = {state.name: state for state in netlink.links()}
        flood = netlink.flood_table()
    finally:
        netlink.close()
    assert flood.get(lean["vx-t"].index) == {"198.51.100.8", "198.51.100.9"}
    assert lean["vx-u"].index not in flood
    for name in ("vx-t", "vx-u"):
        assert flood.get(lean[name].index, set()) == pyroute2_flood(path, lean[name].index)
    assert lean == pyroute2_states(path)
    assert len(lean) == 1 + 4 + 300
    assert (lean["vx-t"].kind, lean["vx-t"].vni, lean["vx-t"].local) == (
        "vxlan", 4242, "198.51.100.7"
    )  # fmt: skip
    assert (lean["tap-t"].kind, lean["tap-t"].master, lean["tap-t"].mtu) == ("tap", "br-t", 1400)
    assert lean["tap-t"].alias == "vifbind:port-1" and lean["br-t"].kind == "bridge"
    assert lean["qvb7"].mtu == 1307 and not lean["qvb7"].up and lean["lo"].up
