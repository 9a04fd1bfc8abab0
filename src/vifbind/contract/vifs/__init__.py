"""The table of VIF types. A new type is one module beside these plus one line in ``SPECS`` and
one per version in ``Vif`` below (a test checks that the two agree)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from pydantic import Discriminator, Tag, TypeAdapter

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


def vif_tag(value: Any) -> str | None:
    """The ``type/version`` tag that selects the model of a VIF (dict or model)."""
    if isinstance(value, dict):
        return f"{value.get('type')}/{value.get('version')}"
    return f"{getattr(value, 'type', None)}/{getattr(value, 'version', None)}"


# One flat union tagged by type *and* version: its JSON Schema is a plain oneOf, which both
# JSON Schema and OpenAPI tools read (a nested discriminator mapping is not valid OpenAPI).
Vif = Annotated[
    Annotated[OvsVif10, Tag("ovs/1.0")]
    | Annotated[OvsVif11, Tag("ovs/1.1")]
    | Annotated[BridgeVif10, Tag("bridge/1.0")]
    | Annotated[TapVif10, Tag("tap/1.0")]
    | Annotated[VhostuserVif10, Tag("vhostuser/1.0")]
    | Annotated[VhostuserVif11, Tag("vhostuser/1.1")]
    | Annotated[MacvtapVif10, Tag("macvtap/1.0")]
    | Annotated[Dot1QbgVif10, Tag("802.1qbg/1.0")]
    | Annotated[Dot1QbhVif10, Tag("802.1qbh/1.0")]
    | Annotated[HwVebVif10, Tag("hw_veb/1.0")]
    | Annotated[HostdevPhysicalVif10, Tag("hostdev_physical/1.0")]
    | Annotated[XenVif10, Tag("xen/1.0")]
    | Annotated[VmwareVif10, Tag("vmware/1.0")]
    | Annotated[HypervVif10, Tag("hyperv/1.0")],
    Discriminator(
        vif_tag,
        custom_error_type="unknown_vif",
        custom_error_message="unknown VIF type/version; known: "
        + ", ".join(f"{t} {v.version}" for t, spec in SPECS.items() for v in spec.versions),
    ),
]
"""Any VIF of any known type and version, selected by ``type`` and ``version``."""

VIF_ADAPTER: TypeAdapter[Vif] = TypeAdapter(Vif)

VIF_TAGS = frozenset(f"{t}/{v.version}" for t, spec in SPECS.items() for v in spec.versions)


def field_path(loc: Sequence[str | int]) -> str:
    """A validation error's location as a dotted field path (``vif.details.bridge``), without
    the ``type/version`` tags that select a VIF's model."""
    return ".".join(str(part) for part in loc if part not in VIF_TAGS)


def parse_vif(data: object) -> VifBase:
    """Validate a VIF from its JSON-like form into the model of its type and version."""
    vif: VifBase = VIF_ADAPTER.validate_python(data)
    return vif
