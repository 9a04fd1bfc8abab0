"""``802.1qbh``: a passthrough macvtap whose switch port takes a port profile."""

from __future__ import annotations

from typing import Literal

from vifbind.contract.base import Model
from vifbind.contract.types import InterfaceName, PortProfileId
from vifbind.contract.vif import VifBase, VifTypeSpec, VifVersion


class Dot1QbhDetails10(Model):
    """``802.1qbh`` 1.0 details."""

    parent: InterfaceName
    profile_id: PortProfileId


class Dot1QbhVif10(VifBase):
    """An ``802.1qbh`` VIF, version 1.0."""

    type: Literal["802.1qbh"] = "802.1qbh"
    version: Literal["1.0"] = "1.0"
    details: Dot1QbhDetails10


SPEC = VifTypeSpec(
    type="802.1qbh",
    description="Passthrough macvtap whose port extender applies a named port profile.",
    versions=(VifVersion("1.0", Dot1QbhVif10),),
)
