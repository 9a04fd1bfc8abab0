"""The decision: which VIF, in which version, with which protections, for a port on a host.

``negotiate`` is a pure function of its arguments: no I/O, no clock, no randomness. The network
service calls it to bind, ``explain`` calls it to show what binding would do, and the offline
``vifbind negotiate`` command calls it on files. Every candidate of every backend leaves a
decision with a reason that names the host fact behind it.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from vifbind.backends.base import Backend, BindContext, Candidate, Proposal, Rejection
from vifbind.contract import (
    PROTECTIONS,
    Binding,
    BindingProfile,
    Decision,
    Enforcer,
    HostMechanisms,
    HostReport,
    Network,
    NotExpressible,
    Outcome,
    Port,
    ProtectionName,
    Protections,
    VifBase,
)
from vifbind.contract.backport import backport
from vifbind.contract.protections import mechanism_covers
from vifbind.contract.types import version_key
from vifbind.contract.vifs import SPECS
from vifbind.errors import InvalidInput


def required_protections(port: Port) -> dict[ProtectionName, bool]:
    """Which protections the port requires: none without port security; security groups only
    when it names some."""
    return {
        "mac_spoofing": port.port_security,
        "ip_spoofing": port.port_security,
        "security_groups": port.port_security and bool(port.security_groups),
    }


@dataclass(frozen=True)
class _Offer:
    vif: VifBase
    protections: Protections
    host_enforcement: HostMechanisms
    reason: str


def negotiate(
    network: Network,
    port: Port,
    host: HostReport,
    backends: Sequence[Backend],
    profile: BindingProfile | None = None,
) -> Binding:
    """Bind ``port`` of ``network`` to ``host`` with the first acceptable candidate of
    ``backends`` (in order); a ``failed`` binding when there is none.

    The result never carries a VIF type or version outside ``host.vif_types``, never assigns a
    protection to the host that the host cannot enforce on that attachment, and lists a decision
    for every candidate considered (at least one per backend).
    """
    if port.network_id != network.id:
        raise InvalidInput(f"port.network_id: {port.network_id} is not network.id {network.id}")
    ctx = BindContext(network=network, port=port, host=host, profile=profile)
    decisions: list[Decision] = []
    chosen: tuple[str, Candidate, _Offer] | None = None
    for backend in backends:
        for proposal in _proposals(backend, ctx):
            if isinstance(proposal, Rejection):
                decisions.append(_rejected(backend.name, proposal))
                continue
            offer = _evaluate(proposal, ctx, backend.name)
            if isinstance(offer, str):
                decisions.append(
                    Decision(
                        backend=backend.name,
                        vif_type=proposal.vif.type,
                        version=proposal.vif.version,
                        outcome="skipped",
                        reason=offer,
                    )
                )
                continue
            outcome: Outcome = "alternative" if chosen is not None else "chosen"
            decisions.append(
                Decision(
                    backend=backend.name,
                    vif_type=offer.vif.type,
                    version=offer.vif.version,
                    outcome=outcome,
                    reason=offer.reason,
                )
            )
            if chosen is None:
                chosen = (backend.name, proposal, offer)
    if not backends:
        decisions.append(
            Decision(backend="(none)", outcome="failed", reason="no backend is enabled")
        )
    fields: dict[str, object] = {
        "port_id": port.id,
        "host": host.host,
        "status": "failed",
        "mac": port.mac,
        "mtu": network.mtu,
        "fixed_ips": port.fixed_ips,
        "allowed_address_pairs": port.allowed_address_pairs,
        "device_id": port.device_id,
        "network_id": network.id,
        "profile": profile,
        "decisions": decisions,
    }
    if chosen is not None:
        backend_name, candidate, offer = chosen
        fields |= {
            "status": "bound",
            "backend": backend_name,
            "vif": offer.vif,
            "protections": offer.protections,
            "host_enforcement": offer.host_enforcement,
            "segment": candidate.segment,
        }
    return Binding.model_validate(fields)


def _proposals(backend: Backend, ctx: BindContext) -> Sequence[Proposal]:
    """The backend's proposals, after the checks every backend shares."""
    host, port = ctx.host, ctx.port
    if host.hypervisor not in backend.hypervisors:
        return [
            Rejection(
                f"host {host.host} runs {host.hypervisor}; {backend.name} serves "
                f"{', '.join(sorted(backend.hypervisors))}"
            )
        ]
    if port.vnic_type not in backend.vnic_types:
        return [
            Rejection(
                f"port wants vnic_type {port.vnic_type}; {backend.name} serves "
                f"{', '.join(sorted(backend.vnic_types))}"
            )
        ]
    try:
        proposals = backend.propose(ctx)
    except Exception as exc:  # a third-party backend's bug must not take binding down
        return [Rejection(f"backend error: {type(exc).__name__}: {exc}")]
    return proposals or [Rejection("backend proposed nothing")]


def _rejected(backend: str, rejection: Rejection) -> Decision:
    return Decision(
        backend=backend,
        vif_type=rejection.vif_type,
        outcome="failed" if rejection.vif_type is None else "skipped",
        reason=rejection.reason,
    )


def _evaluate(candidate: Candidate, ctx: BindContext, backend: str) -> _Offer | str:
    """The offer this candidate makes to this host, or why it cannot make one."""
    vif = _version_for_host(candidate.vif, ctx.host)
    if isinstance(vif, str):
        return vif
    assigned = _assign_protections(candidate, vif, ctx, backend)
    if isinstance(assigned, str):
        return assigned
    protections, mechanisms = assigned
    understood = _versions_text(ctx.host.understands(vif.type))
    reason = f"host understands {vif.type} {understood}; offered {vif.version}"
    if vif.version != candidate.vif.version:
        reason += f" (backported from {candidate.vif.version})"
    duties = ", ".join(
        f"{name} {protections.get(name)}"
        + (f" ({getattr(mechanisms, name)})" if protections.get(name) == "host" else "")
        for name in PROTECTIONS
    )
    reason += f"; {duties}"
    if candidate.note:
        reason += f"; {candidate.note}"
    return _Offer(vif, protections, mechanisms, reason)


def _version_for_host(vif: VifBase, host: HostReport) -> VifBase | str:
    """The newest form of ``vif`` the host understands, or why there is none."""
    understood = host.understands(vif.type)
    if not understood:
        known = "; ".join(f"{t} {_versions_text(v)}" for t, v in sorted(host.vif_types.items()))
        known = known or "no VIF type"
        return f"host {host.host} does not understand VIF type {vif.type} (it understands: {known})"
    spec = SPECS.get(vif.type)
    if spec is None:
        return f"VIF type {vif.type} is not part of this service's contract"
    usable = sorted(
        (
            v
            for v in understood
            if spec.get(v) is not None and version_key(v) <= version_key(vif.version)
        ),
        key=version_key,
        reverse=True,
    )
    if not usable:
        return (
            f"host {host.host} understands {vif.type} {_versions_text(understood)} only; this "
            f"service writes {vif.type} {_versions_text([v.version for v in spec.versions])}"
        )
    first_failure: NotExpressible | None = None
    for version in usable:
        try:
            return backport(vif, version)
        except NotExpressible as exc:
            first_failure = first_failure or exc
    return f"host {host.host} understands {vif.type} {_versions_text(understood)}; {first_failure}"


def _assign_protections(
    candidate: Candidate, vif: VifBase, ctx: BindContext, backend: str
) -> tuple[Protections, HostMechanisms] | str:
    """Who enforces each required protection, or why this candidate leaves one unenforced."""
    required = required_protections(ctx.port)
    assigned: dict[ProtectionName, Enforcer] = {}
    mechanisms: dict[ProtectionName, str] = {}
    for name in PROTECTIONS:
        if not required[name]:
            assigned[name] = "off"
            continue
        if name in candidate.enforces:
            assigned[name] = "network"
            continue
        reported = ctx.host.enforcement.get(name)
        allowed = vif.host_mechanisms_for(name)
        usable = [m for m in reported if m in allowed and mechanism_covers(m, name)]
        if not usable:
            return (
                f"{name} must be enforced by the host ({backend} does not enforce it), but host "
                f"{ctx.host.host} has no mechanism for it that acts on {vif.summary()} "
                f"(host reports: {', '.join(reported) or 'none'}; usable on this attachment: "
                f"{', '.join(sorted(m for m in allowed if mechanism_covers(m, name))) or 'none'})"
            )
        assigned[name] = "host"
        mechanisms[name] = usable[0]
    return Protections(**assigned), HostMechanisms(**mechanisms)


def _versions_text(versions: Sequence[str]) -> str:
    ordered = sorted(set(versions), key=version_key)
    if len(ordered) > 1 and all(
        version_key(a)[0] == version_key(b)[0] and version_key(b)[1] == version_key(a)[1] + 1
        for a, b in itertools.pairwise(ordered)
    ):
        return f"{ordered[0]}-{ordered[-1]}"
    return ", ".join(ordered)
