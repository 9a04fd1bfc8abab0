"""What a backend is: a pure decider that proposes VIFs for a port on a host.

A backend reads only its ``BindContext`` (network, port, host report, profile) and returns
proposals in its order of preference: candidates (a VIF plus the protections the backend
enforces itself) or rejections (a reason naming the host fact that rules something out). The
negotiation core does the rest — version skew, protection assignment, the choice — the same way
for every backend.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import ValidationError

from vifbind.contract import (
    BindingProfile,
    HostReport,
    Hypervisor,
    Network,
    Port,
    ProtectionName,
    Segment,
    SegmentType,
    VifBase,
    VnicType,
)
from vifbind.contract.host import PhysnetMapping
from vifbind.errors import validation_problems


@dataclass(frozen=True)
class BindContext:
    """Everything a backend may look at: no I/O, no clock, no configuration of its own."""

    network: Network
    port: Port
    host: HostReport
    profile: BindingProfile | None = None


@dataclass(frozen=True)
class Candidate:
    """A VIF the backend can serve, on ``segment``, enforcing ``enforces`` itself."""

    vif: VifBase
    segment: Segment
    enforces: frozenset[ProtectionName]
    note: str = ""


@dataclass(frozen=True)
class Rejection:
    """Why the backend cannot offer ``vif_type`` (or anything at all, when ``None``)."""

    reason: str
    vif_type: str | None = None


Proposal = Candidate | Rejection


class Backend(ABC):
    """A network technology's decider. Subclasses set the class attributes and ``propose``."""

    name: ClassVar[str]
    description: ClassVar[str]
    hypervisors: ClassVar[frozenset[Hypervisor]]
    """Hypervisors whose hosts this backend can wire; others are refused centrally."""
    vnic_types: ClassVar[frozenset[VnicType]]
    """Port vnic types this backend serves; others are refused centrally."""

    @abstractmethod
    def propose(self, ctx: BindContext) -> Sequence[Proposal]:
        """Candidates and rejections for ``ctx``, most preferred first."""


def build(
    vif_model: type[VifBase],
    details: Mapping[str, Any],
    segment: Segment,
    enforces: frozenset[ProtectionName] = frozenset(),
    note: str = "",
) -> Proposal:
    """Validate a VIF built from host facts; an invalid one becomes a rejection, not a crash.

    Host reports are validated on arrival, but names *derived* from them (a VLAN parent like
    ``ens1f0np0.4000``, a socket path under a long directory) can still break the rules.
    """
    vif_type = str(vif_model.model_fields["type"].default)
    try:
        vif = vif_model.model_validate({"details": dict(details)})
    except ValidationError as exc:
        problems = "; ".join(validation_problems(exc))
        return Rejection(f"cannot form a valid {vif_type} VIF: {problems}", vif_type)
    return Candidate(vif, segment, enforces, note)


def device_name(prefix: str, port: Port) -> str:
    """Host device name for a port: prefix + the port id, cut to 14 bytes (the usual
    ``tap`` + 11 characters, so that peers derived by swapping the prefix stay unique)."""
    return (prefix + port.id)[:14]


def platform_key(segment: Segment) -> str:
    """Key of a per-physnet platform identifier: ``physnet`` (flat) or ``physnet:vlan``.

    A VLAN segment is a different platform network (XenServer network, vSphere port group) from
    its untagged physnet, so it is never looked up under the bare physnet name.
    """
    if segment.type == "vlan":
        return f"{segment.physnet}:{segment.segmentation_id}"
    return str(segment.physnet)


def _names(items: Sequence[str] | Mapping[str, object]) -> str:
    return ", ".join(sorted(items)) or "none"


def tunnel_reason(host: HostReport, segment: Segment) -> str | None:
    """Why ``host`` cannot end the overlay ``segment``, or ``None`` when it can."""
    if segment.type in host.tunnels:
        return None
    return (
        f"host {host.host} has no {segment.type} tunnel endpoint (tunnels: {_names(host.tunnels)})"
    )


def physnet_reason(
    ctx: BindContext, segment: Segment, *needs: str
) -> tuple[PhysnetMapping | None, str | None]:
    """The host's mapping of ``segment``'s physnet if it has one of the attributes ``needs``
    and carries the network's MTU; otherwise a reason."""
    host = ctx.host
    mapping = host.physnets.get(str(segment.physnet))
    if mapping is None:
        return None, (
            f"physnet {segment.physnet} is not mapped on host {host.host} "
            f"(physnets: {_names(host.physnets)})"
        )
    if all(getattr(mapping, attribute) is None for attribute in needs):
        return None, (
            f"physnet {segment.physnet} on host {host.host} has no {' or '.join(needs)} mapped"
        )
    if mapping.mtu is not None and ctx.network.mtu > mapping.mtu:
        return None, (
            f"network MTU {ctx.network.mtu} exceeds the MTU {mapping.mtu} of physnet "
            f"{segment.physnet} on host {host.host}"
        )
    return mapping, None


def pick_segment(
    ctx: BindContext,
    supported: frozenset[SegmentType],
    reach: Callable[[Segment], str | None],
    backend: str,
) -> Segment | Rejection:
    """The network's first segment that ``backend`` carries and ``reach`` says the host reaches.

    ``reach`` returns ``None`` for a reachable segment, else the reason it is not; a rejection
    lists every segment with its reason.
    """
    reasons = []
    for segment in ctx.network.segments:
        if segment.type not in supported:
            reasons.append(
                f"{segment.describe()}: {backend} carries {', '.join(sorted(supported))} only"
            )
            continue
        reason = reach(segment)
        if reason is None:
            return segment
        reasons.append(f"{segment.describe()}: {reason}")
    return Rejection("no segment of the network reaches this host — " + "; ".join(reasons))
