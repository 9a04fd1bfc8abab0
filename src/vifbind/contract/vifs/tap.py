"""``tap``: a bare device; the backend does everything else (routes, flows)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from vifbind.contract.base import Model
from vifbind.contract.protections import PACKET_FILTERS
from vifbind.contract.types import InterfaceName
from vifbind.contract.vif import VifBase, VifTypeSpec, VifVersion


class TapDetails10(Model):
    """``tap`` 1.0 details."""

    devname: InterfaceName = Field(description="Name of the device the host creates.")


class TapVif10(VifBase):
    """A ``tap`` VIF, version 1.0."""

    type: Literal["tap"] = "tap"
    version: Literal["1.0"] = "1.0"
    details: TapDetails10

    def host_mechanisms(self) -> frozenset[str]:
        return PACKET_FILTERS | {"nwfilter"}

    def host_mechanisms_for(self, protection: str) -> frozenset[str]:
        # Security groups need connection tracking; frames on a lone tap or macvtap never
        # cross a bridge, where the host's stateful filter would see them.
        return frozenset() if protection == "security_groups" else self.host_mechanisms()


SPEC = VifTypeSpec(
    type="tap",
    description="A bare tap (or veth) device that the backend wires itself.",
    versions=(VifVersion("1.0", TapVif10),),
)
