"""What a binding should look like on the host: its Linux devices, OVS port and filter point.

A layout is computed from a validated binding and the host's configuration alone (pure), and
is what plugging creates, what inventory is compared with, and what unplugging removes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

LinkKind = Literal["veth", "tap", "bridge", "macvtap", "vxlan"]
FilterFamily = Literal["bridge", "netdev"]
FilterHook = Literal["egress", "ingress"]

OWNER_PREFIX = "vifbind:"
NETWORK_OWNER_PREFIX = "vifbind:net:"
NEW_DEVICE_PREFIX = "vbnew"
"""Reserved device-name prefix. The kernel marks a device (IFLA_IFALIAS) only once it exists,
so a device is created under a ``vbnew…`` name, marked, then renamed: a device still named so
when no plug is running is a leftover of an interrupted plug, vifbind's to remove."""


def port_owner(port_id: str) -> str:
    """The ownership mark (interface alias) of a device created for ``port_id``."""
    return f"{OWNER_PREFIX}{port_id}"


def network_owner(network_id: str) -> str:
    """The ownership mark of a device shared by a network's ports (bridge, VXLAN)."""
    return f"{NETWORK_OWNER_PREFIX}{network_id}"


@dataclass(frozen=True)
class Peer:
    """The other end of a veth pair: in the host namespace, or inside the guest's."""

    name: str | None
    """``None``: the guest's next free ``ethN``, chosen when the pair is created."""
    netns: str | None = None
    """The guest's namespace name; ``None``: the host's namespace."""
    mac: str | None = None
    mtu: int | None = None
    tx_checksum_off: bool = False


@dataclass(frozen=True)
class LinkSpec:
    """One Linux device as it should be; created down and unenslaved, opened later."""

    name: str
    kind: LinkKind
    owner: str
    mtu: int
    master: str | None = None
    peer: Peer | None = None
    parent: str | None = None
    mode: str | None = None
    mac: str | None = None
    vni: int | None = None
    local: str | None = None
    dstport: int | None = None


@dataclass(frozen=True)
class OvsPortSpec:
    """One OVS port (with its single interface) as it should be."""

    name: str
    bridge: str
    external_ids: dict[str, str]
    mtu_request: int | None
    type: str = ""
    options: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class FilterPoint:
    """Where the host's nftables rules see the guest's frames."""

    device: str
    family: FilterFamily
    hook: FilterHook = "egress"
    """netdev family only: ``egress`` where the guest transmits through the device itself
    (macvtap), ``ingress`` where the guest's frames arrive on a host device (tap, veth)."""


@dataclass(frozen=True)
class Layout:
    """Everything one binding owns on the host."""

    port_id: str
    links: tuple[LinkSpec, ...]
    ovs: OvsPortSpec | None = None
    filter: FilterPoint | None = None
    network: NetworkLayout | None = None


@dataclass(frozen=True)
class NetworkLayout:
    """A network's shared data plane on this host (Linux bridge + VXLAN device)."""

    network_id: str
    bridge: LinkSpec
    vxlan: LinkSpec
