"""``hostdev_physical``: a whole physical NIC function passed through to the guest."""

from __future__ import annotations

from typing import Literal

from vifbind.contract.base import Model
from vifbind.contract.types import PciAddress
from vifbind.contract.vif import VifBase, VifTypeSpec, VifVersion


class HostdevPhysicalDetails10(Model):
    """``hostdev_physical`` 1.0 details."""

    pci_address: PciAddress


class HostdevPhysicalVif10(VifBase):
    """A ``hostdev_physical`` VIF, version 1.0."""

    type: Literal["hostdev_physical"] = "hostdev_physical"
    version: Literal["1.0"] = "1.0"
    details: HostdevPhysicalDetails10


SPEC = VifTypeSpec(
    type="hostdev_physical",
    description="PCI passthrough of a physical function; nothing on the host can filter it.",
    versions=(VifVersion("1.0", HostdevPhysicalVif10),),
)
