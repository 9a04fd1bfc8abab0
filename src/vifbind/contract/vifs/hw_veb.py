"""``hw_veb``: an SR-IOV virtual function switched by the NIC's embedded bridge."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from vifbind.contract.base import Model
from vifbind.contract.types import PciAddress, PhysnetName
from vifbind.contract.vif import VifBase, VifTypeSpec, VifVersion


class HwVebDetails10(Model):
    """``hw_veb`` 1.0 details."""

    pci_address: PciAddress = Field(description="The virtual function given to the guest.")
    physnet: PhysnetName
    vlan: int = Field(ge=0, le=4094, description="VLAN the VF tags with; 0 = untagged.")
    attach: Literal["hostdev", "direct"] = Field(
        default="hostdev",
        description="'hostdev': PCI passthrough of the VF; 'direct': macvtap passthrough on it.",
    )


class HwVebVif10(VifBase):
    """An ``hw_veb`` VIF, version 1.0."""

    type: Literal["hw_veb"] = "hw_veb"
    version: Literal["1.0"] = "1.0"
    details: HwVebDetails10

    def host_mechanisms(self) -> frozenset[str]:
        # The PF driver's spoof check guards the VF's source MAC; with 'direct' a macvtap
        # device also exists on the host, where nftables can act.
        if self.details.attach == "direct":
            return frozenset({"vf-spoofchk", "nftables"})
        return frozenset({"vf-spoofchk"})

    def summary(self) -> str:
        return f"hw_veb {self.version} VF {self.details.pci_address} ({self.details.attach})"


SPEC = VifTypeSpec(
    type="hw_veb",
    description="SR-IOV virtual function on the segment's physnet.",
    versions=(VifVersion("1.0", HwVebVif10),),
)
