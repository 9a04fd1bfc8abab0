"""What is on the host now, and which of it vifbind owns (its ownership marks)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from vifbind.host.layout import NETWORK_OWNER_PREFIX, OWNER_PREFIX
from vifbind.host.netlink import LinkState, Netlink
from vifbind.host.ovsdb import Ovsdb, OvsInterface
from vifbind.host.protections.nftables import ChainState, Nftables


@dataclass(frozen=True)
class Inventory:
    """The host's devices, OVS interfaces and vifbind's port chains, read once."""

    links: dict[str, LinkState] = field(default_factory=dict)
    ovs: dict[str, OvsInterface] = field(default_factory=dict)
    chains: dict[str, ChainState] = field(default_factory=dict)
    flood: dict[str, set[str]] = field(default_factory=dict)
    """Remote endpoints of the flood entries of vifbind's VXLAN devices, by device."""

    def port_links(self, port_id: str) -> list[LinkState]:
        """Devices marked for ``port_id``."""
        return self._links_by_mark.get(OWNER_PREFIX + port_id, [])

    def port_interfaces(self, port_id: str) -> list[OvsInterface]:
        """OVS interfaces marked for ``port_id``."""
        return self._interfaces_by_owner.get(port_id, [])

    # Indexes built on first use: a reconcile asks for every port's devices, and scanning
    # thousands of devices per port would make it quadratic.
    @cached_property
    def _links_by_mark(self) -> dict[str, list[LinkState]]:
        index: dict[str, list[LinkState]] = {}
        for link in self.links.values():
            index.setdefault(link.alias, []).append(link)
        return index

    @cached_property
    def _interfaces_by_owner(self) -> dict[str, list[OvsInterface]]:
        index: dict[str, list[OvsInterface]] = {}
        for iface in self.ovs.values():
            if iface.owner:
                index.setdefault(iface.owner, []).append(iface)
        return index

    def owned_ports(self) -> set[str]:
        """Every port that has something marked on this host."""
        ports = {
            link.alias.removeprefix(OWNER_PREFIX)
            for link in self.links.values()
            if link.alias.startswith(OWNER_PREFIX)
            and not link.alias.startswith(NETWORK_OWNER_PREFIX)
        }
        ports |= {iface.owner for iface in self.ovs.values() if iface.owner}
        return ports | set(self.chains)

    def network_links(self, network_id: str | None = None) -> list[LinkState]:
        """Devices vifbind created for networks (of ``network_id``, or of all)."""
        prefix = NETWORK_OWNER_PREFIX + (network_id or "")
        return [link for link in self.links.values() if link.alias.startswith(prefix)]

    def owned_networks(self) -> set[str]:
        """Networks that have a bridge or VXLAN device of vifbind on this host."""
        return {link.alias.removeprefix(NETWORK_OWNER_PREFIX) for link in self.network_links()}


def take_inventory(
    netlink: Netlink,
    ovsdb: Ovsdb | None,
    nftables: Nftables,
    chains: dict[str, ChainState] | None = None,
) -> Inventory:
    """Read the host's devices, OVS interfaces and vifbind's chains (``chains``: known
    already, not read)."""
    links = {link.name: link for link in netlink.links()}
    vxlans = [
        link
        for link in links.values()
        if link.kind == "vxlan" and link.alias.startswith(NETWORK_OWNER_PREFIX)
    ]
    flood = netlink.flood_table() if vxlans else {}
    return Inventory(
        links=links,
        ovs={iface.name: iface for iface in ovsdb.interfaces()} if ovsdb is not None else {},
        chains=nftables.chains() if chains is None else chains,
        flood={link.name: flood.get(link.index, set()) for link in vxlans},
    )
