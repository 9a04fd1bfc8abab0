"""``hyperv``: a Hyper-V network adapter on a virtual switch."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from vifbind.contract.base import Model
from vifbind.contract.types import DisplayName
from vifbind.contract.vif import VifBase, VifTypeSpec, VifVersion


class HypervDetails10(Model):
    """``hyperv`` 1.0 details."""

    vswitch: DisplayName = Field(description="Name of the Hyper-V virtual switch.")
    vlan: int | None = Field(default=None, ge=1, le=4094, description="Access VLAN; null = none.")


class HypervVif10(VifBase):
    """A ``hyperv`` VIF, version 1.0."""

    type: Literal["hyperv"] = "hyperv"
    version: Literal["1.0"] = "1.0"
    details: HypervDetails10

    def host_mechanisms(self) -> frozenset[str]:
        return frozenset({"hyperv-port-acl"})

    def summary(self) -> str:
        return f"hyperv {self.version} on switch {self.details.vswitch!r}"


SPEC = VifTypeSpec(
    type="hyperv",
    description="Hyper-V adapter on a virtual switch, optionally in an access VLAN.",
    versions=(VifVersion("1.0", HypervVif10),),
)
