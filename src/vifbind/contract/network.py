"""Networks and their segments, as the network service owns them."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from vifbind.contract.base import Model
from vifbind.contract.types import PhysnetName, Uuid

SegmentType = Literal["flat", "vlan", "vxlan", "geneve"]
"""How a network's traffic is carried between hosts."""

OVERLAY_TYPES: frozenset[SegmentType] = frozenset({"vxlan", "geneve"})
"""Segment types carried in tunnels between host endpoints rather than on a physnet."""

VLAN_MAX = 4094
VNI_MAX = 2**24 - 1


class Segment(Model):
    """One way of reaching a network: a physical network (flat, VLAN) or an overlay."""

    type: SegmentType
    physnet: PhysnetName | None = Field(
        default=None, description="Physical network carrying flat and vlan segments."
    )
    segmentation_id: int | None = Field(
        default=None, description="VLAN id (1-4094) or overlay VNI (1-16777215); none for flat."
    )

    @model_validator(mode="after")
    def _consistent(self) -> Segment:
        if self.type in OVERLAY_TYPES:
            if self.physnet is not None:
                raise ValueError(f"physnet: a {self.type} segment is not on a physical network")
            if self.segmentation_id is None or not 1 <= self.segmentation_id <= VNI_MAX:
                raise ValueError(f"segmentation_id: a {self.type} segment needs a VNI 1-{VNI_MAX}")
            return self
        if self.physnet is None:
            raise ValueError(f"physnet: a {self.type} segment needs a physical network")
        if self.type == "vlan":
            if self.segmentation_id is None or not 1 <= self.segmentation_id <= VLAN_MAX:
                raise ValueError(f"segmentation_id: a vlan segment needs a VLAN id 1-{VLAN_MAX}")
        elif self.segmentation_id is not None:
            raise ValueError("segmentation_id: a flat segment has none")
        return self

    def describe(self) -> str:
        """Human-readable form used in explanations, e.g. ``vlan 101 on physnet1``."""
        if self.type == "flat":
            return f"flat on {self.physnet}"
        if self.type == "vlan":
            return f"vlan {self.segmentation_id} on {self.physnet}"
        return f"{self.type} {self.segmentation_id}"


class Network(Model):
    """A layer-2 network with its MTU and the segments that carry it."""

    id: Uuid
    name: str = Field(default="", max_length=255, pattern=r"^[^\x00-\x1f\x7f]*$")
    mtu: int = Field(default=1500, ge=68, le=65535)
    segments: list[Segment] = Field(min_length=1)
