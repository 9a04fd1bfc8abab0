"""``vhostuser``: a vhost-user socket shared between the guest and a userspace switch."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from vifbind.contract.base import Model
from vifbind.contract.types import BridgeName, SocketPath
from vifbind.contract.vif import AddedField, VifBase, VifTypeSpec, VifVersion

MAX_QUEUES = 256


class VhostuserDetails10(Model):
    """``vhostuser`` 1.0 details."""

    socket_path: SocketPath
    mode: Literal["client", "server"] = Field(
        description="The guest side's role on the socket (QEMU is 'server' when OVS is the "
        "client, as with dpdkvhostuserclient ports)."
    )
    ovs_bridge: BridgeName | None = Field(
        default=None, description="OVS bridge the socket's port is added to; null = not OVS."
    )


class VhostuserDetails11(VhostuserDetails10):
    """``vhostuser`` 1.1 details: adds multi-queue."""

    queues: int = Field(default=1, ge=1, le=MAX_QUEUES, description="Queue pairs; 1.0 implies 1.")


class VhostuserVif10(VifBase):
    """A ``vhostuser`` VIF, version 1.0."""

    type: Literal["vhostuser"] = "vhostuser"
    version: Literal["1.0"] = "1.0"
    details: VhostuserDetails10


class VhostuserVif11(VifBase):
    """A ``vhostuser`` VIF, version 1.1."""

    type: Literal["vhostuser"] = "vhostuser"
    version: Literal["1.1"] = "1.1"
    details: VhostuserDetails11


SPEC = VifTypeSpec(
    type="vhostuser",
    description="vhost-user socket into a userspace (DPDK) switch; no host device in the path.",
    versions=(
        VifVersion("1.0", VhostuserVif10),
        VifVersion("1.1", VhostuserVif11, added=(AddedField("queues", (1,)),)),
    ),
)
