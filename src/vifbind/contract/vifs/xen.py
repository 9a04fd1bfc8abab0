"""``xen``: a XenServer/XCP-ng VIF on a pool network identified by its UUID."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from vifbind.contract.base import Model
from vifbind.contract.types import Uuid
from vifbind.contract.vif import VifBase, VifTypeSpec, VifVersion


class XenDetails10(Model):
    """``xen`` 1.0 details."""

    network_uuid: Uuid = Field(description="The pool's network (differs from pool to pool).")


class XenVif10(VifBase):
    """A ``xen`` VIF, version 1.0."""

    type: Literal["xen"] = "xen"
    version: Literal["1.0"] = "1.0"
    details: XenDetails10

    def host_mechanisms(self) -> frozenset[str]:
        return frozenset({"xen-vif-locking"})

    def summary(self) -> str:
        return f"xen {self.version} on network {self.details.network_uuid}"


SPEC = VifTypeSpec(
    type="xen",
    description="XenAPI VIF on the pool network with the given UUID.",
    versions=(VifVersion("1.0", XenVif10),),
)
