"""``802.1qbg``: a macvtap in VEPA mode whose switch port is set up by a VSI type (VDP)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from vifbind.contract.base import Model
from vifbind.contract.types import InterfaceName, Uuid
from vifbind.contract.vif import VifBase, VifTypeSpec, VifVersion


class Dot1QbgDetails10(Model):
    """``802.1qbg`` 1.0 details (the VSI discovery protocol's parameters)."""

    parent: InterfaceName
    manager_id: int = Field(ge=0, le=255, description="VSI manager id.")
    type_id: int = Field(ge=0, le=2**24 - 1, description="VSI type id.")
    type_id_version: int = Field(ge=0, le=255, description="VSI type version.")
    instance_id: Uuid = Field(description="VSI instance id (unique per VIF).")


class Dot1QbgVif10(VifBase):
    """An ``802.1qbg`` VIF, version 1.0."""

    type: Literal["802.1qbg"] = "802.1qbg"
    version: Literal["1.0"] = "1.0"
    details: Dot1QbgDetails10


SPEC = VifTypeSpec(
    type="802.1qbg",
    description="macvtap (VEPA) whose adjacent switch applies a VSI type via VDP.",
    versions=(VifVersion("1.0", Dot1QbgVif10),),
)
