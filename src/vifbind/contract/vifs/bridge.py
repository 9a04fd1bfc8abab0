"""``bridge``: a device on a Linux bridge."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from vifbind.contract.base import Model
from vifbind.contract.protections import PACKET_FILTERS
from vifbind.contract.types import BridgeName, InterfaceName
from vifbind.contract.vif import VifBase, VifTypeSpec, VifVersion


def network_bridge_name(network_id: str) -> str:
    """The Linux bridge vifbind keeps per network (``brq`` + the network id's first 11
    characters, as Neutron's linuxbridge agent names it): the linuxbridge backend names it in
    the VIF, the host creates it, and both derive it here."""
    return ("brq" + network_id)[:14]


class BridgeDetails10(Model):
    """``bridge`` 1.0 details."""

    bridge: BridgeName = Field(description="Linux bridge the device is enslaved to.")
    devname: InterfaceName = Field(description="Name of the device the host creates.")


class BridgeVif10(VifBase):
    """A ``bridge`` VIF, version 1.0."""

    type: Literal["bridge"] = "bridge"
    version: Literal["1.0"] = "1.0"
    details: BridgeDetails10

    def host_mechanisms(self) -> frozenset[str]:
        return PACKET_FILTERS | {"nwfilter"}

    def summary(self) -> str:
        return f"bridge {self.version} on {self.details.bridge}"


SPEC = VifTypeSpec(
    type="bridge",
    description="Device on a Linux bridge.",
    versions=(VifVersion("1.0", BridgeVif10),),
)
