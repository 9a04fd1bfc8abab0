"""``macvtap``: a macvtap device on a host parent device."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from vifbind.contract.base import Model
from vifbind.contract.types import InterfaceName
from vifbind.contract.vif import VifBase, VifTypeSpec, VifVersion

MacvtapMode = Literal["bridge", "vepa", "private", "passthrough"]


class MacvtapDetails10(Model):
    """``macvtap`` 1.0 details."""

    parent: InterfaceName = Field(description="Host device the macvtap is created on.")
    mode: MacvtapMode = "bridge"


class MacvtapVif10(VifBase):
    """A ``macvtap`` VIF, version 1.0."""

    type: Literal["macvtap"] = "macvtap"
    version: Literal["1.0"] = "1.0"
    details: MacvtapDetails10

    def host_mechanisms(self) -> frozenset[str]:
        # The guest's frames are transmitted by the macvtap device itself, where an nftables
        # netdev egress hook sees them before they reach the parent.
        return frozenset({"nftables"})

    def host_mechanisms_for(self, protection: str) -> frozenset[str]:
        # Security groups need connection tracking; frames on a lone tap or macvtap never
        # cross a bridge, where the host's stateful filter would see them.
        return frozenset() if protection == "security_groups" else self.host_mechanisms()

    def summary(self) -> str:
        return f"macvtap {self.version} on {self.details.parent} ({self.details.mode})"


SPEC = VifTypeSpec(
    type="macvtap",
    description="macvtap device on a host parent device.",
    versions=(VifVersion("1.0", MacvtapVif10),),
)
