"""What a binding's host-assigned protections ask of a renderer, and the addresses they allow.

A renderer applies only the mechanisms that live in its hypervisor's configuration (libvirt's
``nwfilter``, XenServer's VIF locking, Hyper-V port ACLs); the others (nftables, …) are the host
agent's. Whatever a renderer cannot express faithfully is an error, never silently dropped.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from vifbind.contract.binding import Binding
from vifbind.contract.protections import PROTECTIONS, ProtectionName
from vifbind.contract.vif import VifBase
from vifbind.errors import NotRenderable

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def duties(binding: Binding, vif: VifBase, mechanism: str) -> frozenset[ProtectionName]:
    """The protections ``binding`` assigns to the host's ``mechanism``."""
    owed = frozenset(
        name for name in PROTECTIONS if getattr(binding.host_enforcement, name) == mechanism
    )
    if owed and mechanism not in vif.host_mechanisms():
        raise NotRenderable(f"host_enforcement: {mechanism} cannot act on {vif.summary()}")
    if "security_groups" in owed:
        raise NotRenderable(
            f"host_enforcement.security_groups: assigned to {mechanism}, but bindings carry no "
            "security-group rules yet for it to apply"
        )
    return owed


@dataclass(frozen=True)
class AllowedSource:
    """One address or prefix the guest may send from, and the binding field it comes from."""

    field: str
    network: IpNetwork

    def address(self, mechanism: str) -> str:
        """The single address, refused when it is a wider prefix ``mechanism`` cannot take."""
        if self.network.prefixlen != self.network.max_prefixlen:
            raise NotRenderable(
                f"{self.field}: {self.network} is a prefix; {mechanism} allows single addresses"
            )
        return str(self.network.network_address)


def allowed_sources(binding: Binding) -> list[AllowedSource]:
    """The port's addresses, then its allowed address pairs' (each once, in order)."""
    found: dict[IpNetwork, AllowedSource] = {}
    fields = [(f"fixed_ips[{i}]", ip) for i, ip in enumerate(binding.fixed_ips)] + [
        (f"allowed_address_pairs[{i}].ip", pair.ip)
        for i, pair in enumerate(binding.allowed_address_pairs)
    ]
    for field, value in fields:
        network = ipaddress.ip_network(value)
        found.setdefault(network, AllowedSource(field, network))
    return list(found.values())


def allowed_macs(binding: Binding) -> list[str]:
    """The port's MAC, then its allowed address pairs' other MACs (each once, in order)."""
    macs = [binding.mac]
    for pair in binding.allowed_address_pairs:
        if pair.mac is not None and pair.mac not in macs:
            macs.append(pair.mac)
    return macs


def own_mac_only(binding: Binding, mechanism: str) -> None:
    """Refuse allowed address pairs with another MAC, for a mechanism that allows only one."""
    for i, pair in enumerate(binding.allowed_address_pairs):
        if pair.mac is not None and pair.mac != binding.mac:
            raise NotRenderable(
                f"allowed_address_pairs[{i}].mac: {pair.mac} is not the port's MAC "
                f"{binding.mac}, and {mechanism} allows the port's own MAC only"
            )
