"""The table of VIF types. A new type is one module beside these plus one line in each of
``SPECS`` and ``Vif`` below (a test checks that the two agree)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, TypeAdapter

from vifbind.contract.vif import VifBase, VifTypeSpec
from vifbind.contract.vifs import (
    bridge,
    dot1qbg,
    dot1qbh,
    hostdev_physical,
    hw_veb,
    hyperv,
    macvtap,
    ovs,
    tap,
    vhostuser,
    vmware,
    xen,
)
from vifbind.contract.vifs.bridge import BridgeVif10
from vifbind.contract.vifs.dot1qbg import Dot1QbgVif10
from vifbind.contract.vifs.dot1qbh import Dot1QbhVif10
from vifbind.contract.vifs.hostdev_physical import HostdevPhysicalVif10
from vifbind.contract.vifs.hw_veb import HwVebVif10
from vifbind.contract.vifs.hyperv import HypervVif10
from vifbind.contract.vifs.macvtap import MacvtapVif10
from vifbind.contract.vifs.ovs import OvsVif10, OvsVif11
from vifbind.contract.vifs.tap import TapVif10
from vifbind.contract.vifs.vhostuser import VhostuserVif10, VhostuserVif11
from vifbind.contract.vifs.vmware import VmwareVif10
from vifbind.contract.vifs.xen import XenVif10

SPECS: dict[str, VifTypeSpec] = {
    spec.type: spec
    for spec in (
        ovs.SPEC,
        bridge.SPEC,
        tap.SPEC,
        vhostuser.SPEC,
        macvtap.SPEC,
        dot1qbg.SPEC,
        dot1qbh.SPEC,
        hw_veb.SPEC,
        hostdev_physical.SPEC,
        xen.SPEC,
        vmware.SPEC,
        hyperv.SPEC,
    )
}
"""Every VIF type this code knows, with its version line."""

Vif = Annotated[
    Annotated[OvsVif10 | OvsVif11, Field(discriminator="version")]
    | BridgeVif10
    | TapVif10
    | Annotated[VhostuserVif10 | VhostuserVif11, Field(discriminator="version")]
    | MacvtapVif10
    | Dot1QbgVif10
    | Dot1QbhVif10
    | HwVebVif10
    | HostdevPhysicalVif10
    | XenVif10
    | VmwareVif10
    | HypervVif10,
    Field(discriminator="type"),
]
"""Any VIF of any known type and version, discriminated by ``type`` then ``version``."""

VIF_ADAPTER: TypeAdapter[Vif] = TypeAdapter(Vif)


def parse_vif(data: object) -> VifBase:
    """Validate a VIF from its JSON-like form into the model of its type and version."""
    vif: VifBase = VIF_ADAPTER.validate_python(data)
    return vif
