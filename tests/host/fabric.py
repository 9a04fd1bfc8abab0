"""How test hosts are wired to each other: underlay links between host namespaces."""

from __future__ import annotations

from typing import Any


def underlay(hv: Any, address: str) -> None:
    """The host's Geneve endpoint: its underlay port on a netdev ``br-phy`` that carries the
    tunnel address (the userspace datapath's native tunnelling routes through it)."""
    hv.ovs.vsctl("add-br", "br-phy", "--", "set", "bridge", "br-phy", "datapath_type=netdev",
                 "--", "add-port", "br-phy", "ul0")  # fmt: skip
    hv.ns.ip("link", "set", "ul0", "up")
    hv.ns.ip("addr", "add", f"{address}/24", "dev", "br-phy")
    hv.ns.ip("link", "set", "br-phy", "mtu", "9000", "up")
