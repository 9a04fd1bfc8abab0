"""``vmware``: a vSphere NIC on a distributed port group or a standard port group."""

from __future__ import annotations

from typing import Literal

from pydantic import model_validator

from vifbind.contract.base import Model
from vifbind.contract.types import DisplayName, DvsUuid, SafeId
from vifbind.contract.vif import VifBase, VifTypeSpec, VifVersion


class VmwareDetails10(Model):
    """``vmware`` 1.0 details: ``dvs_uuid`` + ``portgroup_key``, or ``network_name``."""

    dvs_uuid: DvsUuid | None = None
    portgroup_key: SafeId | None = None
    network_name: DisplayName | None = None

    @model_validator(mode="after")
    def _one_backing(self) -> VmwareDetails10:
        distributed = self.dvs_uuid is not None and self.portgroup_key is not None
        partial = (self.dvs_uuid is None) != (self.portgroup_key is None)
        if partial:
            raise ValueError("dvs_uuid and portgroup_key go together")
        if distributed == (self.network_name is not None):
            raise ValueError(
                "network_name: give either dvs_uuid + portgroup_key or network_name, not both"
                if distributed
                else "network_name: give dvs_uuid + portgroup_key or network_name"
            )
        return self


class VmwareVif10(VifBase):
    """A ``vmware`` VIF, version 1.0."""

    type: Literal["vmware"] = "vmware"
    version: Literal["1.0"] = "1.0"
    details: VmwareDetails10

    def host_mechanisms(self) -> frozenset[str]:
        return frozenset({"vmware-security-policy", "nsx-spoofguard"})

    def summary(self) -> str:
        d = self.details
        where = f"port group {d.portgroup_key}" if d.portgroup_key else f"network {d.network_name}"
        return f"vmware {self.version} on {where}"


SPEC = VifTypeSpec(
    type="vmware",
    description="vSphere NIC backed by a distributed port group or a standard port group.",
    versions=(VifVersion("1.0", VmwareVif10),),
)
