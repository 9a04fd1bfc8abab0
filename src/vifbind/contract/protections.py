"""Protections: what must stop a guest from misbehaving, and who stops it.

The seed thread's "filtered" flag said neither what was filtered nor by whom. Here every
protection is named, and a binding assigns each one to ``network`` (the backend enforces it),
``host`` (the compute host must enforce it, with a mechanism it reported) or ``off`` (the port
asked for none). Nothing is left implicit, so nothing is silently unprotected.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from vifbind.contract.base import Record
from vifbind.contract.types import Mechanism

ProtectionName = Literal["mac_spoofing", "ip_spoofing", "security_groups"]
"""A protection a port can require."""

PROTECTIONS: tuple[ProtectionName, ...] = ("mac_spoofing", "ip_spoofing", "security_groups")
"""Every protection, in the order in which bindings and explanations list them."""

Enforcer = Literal["network", "host", "off"]
"""Who enforces a protection: the network backend, the compute host, or nobody."""

PACKET_FILTERS: frozenset[str] = frozenset({"nftables", "iptables"})
"""Host packet filters that act on any host network device in the guest's path."""

MECHANISM_COVERS: dict[str, frozenset[ProtectionName]] = {
    "nftables": frozenset(PROTECTIONS),
    "iptables": frozenset(PROTECTIONS),
    "nwfilter": frozenset(PROTECTIONS),
    "vf-spoofchk": frozenset({"mac_spoofing"}),
    "xen-vif-locking": frozenset({"mac_spoofing", "ip_spoofing"}),
    "vmware-security-policy": frozenset({"mac_spoofing"}),
    "nsx-spoofguard": frozenset({"mac_spoofing", "ip_spoofing"}),
    "hyperv-port-acl": frozenset(PROTECTIONS),
}
"""What each known mechanism can enforce. A host that lists a mechanism under a protection it
cannot enforce (``vf-spoofchk`` for security groups) is not believed."""


def mechanism_covers(mechanism: str, protection: ProtectionName) -> bool:
    """Whether ``mechanism`` can enforce ``protection``; unknown (third-party) ones are trusted."""
    covers = MECHANISM_COVERS.get(mechanism)
    return covers is None or protection in covers


class Protections(Record):
    """Who enforces each protection for one binding."""

    mac_spoofing: Enforcer = Field(
        description="Guest may send only from its own MAC (and allowed pairs' MACs)."
    )
    ip_spoofing: Enforcer = Field(
        description="Guest may send and announce (ARP/NDP) only its own IP addresses."
    )
    security_groups: Enforcer = Field(
        description="The L3/L4 rules of the port's security groups; 'off' when it has none."
    )

    def get(self, name: ProtectionName) -> Enforcer:
        """Return who enforces ``name``."""
        value: Enforcer = getattr(self, name)
        return value


class HostMechanisms(Record):
    """The mechanism the host must use for each protection assigned to it (absent: not host's)."""

    mac_spoofing: Mechanism | None = None
    ip_spoofing: Mechanism | None = None
    security_groups: Mechanism | None = None


class Enforcement(Record):
    """What a host can enforce: per protection, the mechanisms it can apply (empty: none)."""

    mac_spoofing: list[Mechanism] = Field(default_factory=list)
    ip_spoofing: list[Mechanism] = Field(default_factory=list)
    security_groups: list[Mechanism] = Field(default_factory=list)

    def get(self, name: ProtectionName) -> list[str]:
        """Return the mechanisms the host can apply for ``name``."""
        value: list[str] = getattr(self, name)
        return value
