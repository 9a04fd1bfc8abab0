"""Bindings: decide and store them, activate, remove, record plugged — every change an event.

All functions run inside one write transaction (``WriteTx``) that first locks the port's row,
so that concurrent requests for one port are serialised: two bind requests for the same
(port, host) leave one row, two activations leave one active binding (and a partial unique
index in the database guarantees it even against a bug here).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from vifbind.backends.base import Backend
from vifbind.contract import (
    Binding,
    BindingProfile,
    BindRequest,
    Decision,
    ExplainRequest,
    HostReport,
    Network,
    Port,
)
from vifbind.contract.api import EventKind, PluggedOutcome, PluggedReport, PortPlugged
from vifbind.errors import Conflict, NotFound
from vifbind.negotiate import negotiate
from vifbind.service import hosts, networks, ports
from vifbind.service.revisions import check_revision
from vifbind.service.storage.database import WriteTx
from vifbind.service.storage.tables import BindingRow, EventRow, PortRow


@dataclass(frozen=True)
class Decider:
    """What deciding needs besides the data: the enabled backends, the report age limit, and
    the backends whose network itself says when a port is plugged (OVN's ``up``)."""

    backends: list[Backend]
    report_max_age: float
    network_signalled: frozenset[str] = frozenset()


def bind(
    tx: WriteTx, decider: Decider, port_id: str, request: BindRequest, if_match: int | None
) -> tuple[Binding, bool]:
    """Decide and store the binding of a port to ``request.host``; returns it and whether it
    was created (rather than decided again)."""
    port_row = ports.get_row(tx.session, port_id, lock=True)
    port = ports.to_contract(port_row)
    network = networks.to_contract(networks.get_row(tx.session, port.network_id))
    others = _rows_of_port(tx.session, port_id)
    existing = next((r for r in others if r.host == request.host), None)
    if if_match is not None:
        if existing is None:
            raise Conflict(
                f"port {port_id} has no binding on host {request.host} to match If-Match",
                field="If-Match",
            )
        check_revision(if_match, existing.revision, f"binding of port {port_id} on {request.host}")
    report, unusable = _report_for(tx.session, tx.now, request, decider.report_max_age)
    decided = decide(decider, network, port, request.host, report, unusable, request.profile)
    if existing is not None:
        return _store(tx, existing, decided, report, active=existing.active, kind="bound"), False
    row = BindingRow(port_id=port_id, host=request.host)
    active = _claim_active(tx, others)
    stored = _store(tx, row, decided, report, active=active, kind="bound")
    tx.session.add(row)
    return stored, True


def decide(
    decider: Decider,
    network: Network,
    port: Port,
    host: str,
    report: HostReport | None,
    unusable: str | None,
    profile: BindingProfile | None,
) -> Binding:
    """Negotiate, or — when there is no usable report — a failed binding that says why."""
    if report is not None and unusable is None:
        return negotiate(network, port, report, decider.backends, profile)
    reason = unusable or f"host {host} has no report"
    names = [b.name for b in decider.backends] or ["(none)"]
    return Binding(
        port_id=port.id,
        host=host,
        status="failed",
        mac=port.mac,
        mtu=network.mtu,
        network_id=network.id,
        fixed_ips=port.fixed_ips,
        allowed_address_pairs=port.allowed_address_pairs,
        device_id=port.device_id,
        profile=profile,
        decisions=[Decision(backend=n, outcome="failed", reason=reason) for n in names],
    )


def explain(session: Session, decider: Decider, request: ExplainRequest, now: datetime) -> Binding:
    """What binding ``request.port_id`` to ``request.host`` would decide now; nothing stored."""
    port = ports.to_contract(ports.get_row(session, request.port_id))
    network = networks.to_contract(networks.get_row(session, port.network_id))
    report, unusable = _report_for(session, now, request, decider.report_max_age)
    return decide(decider, network, port, request.host, report, unusable, request.profile)


def redecide_port(tx: WriteTx, decider: Decider, port_id: str) -> list[Binding]:
    """Decide every binding of a port again after the port or its network changed. The report
    each was decided from is reused (its age does not matter: the host already serves it)."""
    port = ports.to_contract(ports.get_row(tx.session, port_id, lock=True))
    network = networks.to_contract(networks.get_row(tx.session, port.network_id))
    changed = []
    for row in _rows_of_port(tx.session, port_id):
        report = HostReport.model_validate(row.report) if row.report is not None else None
        previous = to_binding(row)
        unusable = None if report is not None else _first_reason(previous)
        decided = decide(decider, network, port, row.host, report, unusable, previous.profile)
        if (
            decided.host_content() != previous.host_content()
            or decided.decisions != previous.decisions
        ):
            _store(tx, row, decided, report, active=row.active, kind="updated")
            changed.append(to_binding(row))
    return changed


def activate(tx: WriteTx, port_id: str, host: str, if_match: int | None) -> Binding:
    """Make the binding on ``host`` the port's active one and every other inactive, at once."""
    ports.get_row(tx.session, port_id, lock=True)
    target = get_row(tx.session, port_id, host)
    check_revision(if_match, target.revision, f"binding of port {port_id} on {host}")
    if target.status != "bound":
        raise Conflict(
            f"the binding of port {port_id} on {host} is {target.status}; it cannot be activated"
        )
    if target.active:
        return to_binding(target)
    for other in _rows_of_port(tx.session, port_id):
        if other.active:
            _set(tx, other, {"active": False}, kind="deactivated")
    tx.session.flush()
    _set(tx, target, {"active": True}, kind="activated")
    return to_binding(target)


def unbind(tx: WriteTx, port_id: str, host: str, if_match: int | None) -> Binding:
    """Remove the binding on ``host``; watchers see it once more with status ``unbound``."""
    ports.get_row(tx.session, port_id, lock=True)
    row = get_row(tx.session, port_id, host)
    check_revision(if_match, row.revision, f"binding of port {port_id} on {host}")
    gone = _record_removal(tx, row)
    tx.session.delete(row)
    return gone


def remove_all_of_port(tx: WriteTx, port_id: str) -> list[Binding]:
    """Record the removal of every binding of a port that is about to be deleted."""
    return [_record_removal(tx, row) for row in _rows_of_port(tx.session, port_id)]


def set_plugged(
    tx: WriteTx,
    decider: Decider,
    port_id: str,
    host: str,
    report: PluggedReport,
    *,
    locked: bool = False,
) -> Binding:
    """Record what the host did with the binding's current decision. For the active binding of
    a backend whose network signals plugged itself, the host's "plugged" is not enough (the
    network has not claimed the port yet); only its failures are recorded. ``locked``: the
    caller holds the port's lock already."""
    if not locked:
        ports.get_row(tx.session, port_id, lock=True)
    row = get_row(tx.session, port_id, host)
    if report.revision < row.decided_revision:
        raise Conflict(
            f"the binding of port {port_id} on {host} was decided again at revision "
            f"{row.decided_revision}, after the revision {report.revision} the host acted on",
            field="revision",
        )
    if report.plugged and row.status != "bound":
        raise Conflict(f"the binding of port {port_id} on {host} is {row.status}; nothing to plug")
    if row.backend in decider.network_signalled and row.active:
        # The active binding's plugged is the network's word (OVN's up). An inactive one —
        # a migration's destination, plugged ahead — is the host's word: the network's signal
        # tells nothing about which host holds the port.
        if report.plugged or report.error is None:
            return to_binding(row)
        changes = {"plug_error": report.error, "plug_retrying": report.retrying}
        _set(tx, row, changes, kind="unplugged")
        return to_binding(row)
    changes = {
        "plugged": report.plugged,
        "plugged_at": tx.now,
        "plug_error": None if report.plugged else report.error,
        "plug_retrying": not report.plugged and report.retrying,
    }
    _set(tx, row, changes, kind="plugged" if report.plugged else "unplugged")
    return to_binding(row)


def set_plugged_many(
    tx: WriteTx, decider: Decider, host: str, reports: list[PortPlugged]
) -> list[PluggedOutcome]:
    """Record several of a host's plugged reports in one transaction; a report refused (its
    binding decided again, or gone) is answered as refused and the others are recorded."""
    outcomes = []
    wanted = sorted({report.port_id for report in reports})
    # The batch's ports locked in one statement (in one order, as every batch locks them) and
    # their bindings read in one: each report then finds its binding in the session rather
    # than querying twice. The rows are held here: the session keeps them only weakly.
    locked = set(
        tx.session.execute(
            select(PortRow.id).where(PortRow.id.in_(wanted)).order_by(PortRow.id).with_for_update()
        ).scalars()
    )
    _held = (
        tx.session.execute(
            select(BindingRow).where(BindingRow.host == host, BindingRow.port_id.in_(wanted))
        )
        .scalars()
        .all()
    )
    # One flush at commit for the whole batch: the reads of each report would otherwise first
    # flush every write of the reports before it, one by one.
    with tx.session.no_autoflush:
        for report in reports:
            try:
                # Every refusal is raised before set_plugged writes anything; a port missing
                # from the lock is looked up (and refused) as a single report would be.
                set_plugged(
                    tx, decider, report.port_id, host, report, locked=report.port_id in locked
                )
            except (Conflict, NotFound) as exc:
                outcomes.append(
                    PluggedOutcome(
                        port_id=report.port_id,
                        recorded=False,
                        error=str(exc),
                        error_type=type(exc).__name__,
                    )
                )
            else:
                outcomes.append(PluggedOutcome(port_id=report.port_id, recorded=True))
    return outcomes


def network_signal_target(
    session: Session, port_id: str, backend: str, plugged: bool
) -> BindingRow | None:
    """The binding a network's plugged signal for a port applies to — its bound binding by
    ``backend`` that is active (or the only one) — when the signal changes it."""
    rows = [
        r for r in _rows_of_port(session, port_id) if r.backend == backend and r.status == "bound"
    ]
    target = next((r for r in rows if r.active), rows[0] if len(rows) == 1 else None)
    if target is None or target.plugged == plugged:
        return None
    return target


def record_network_signal(tx: WriteTx, port_id: str, backend: str, plugged: bool) -> bool:
    """Record a network's plugged signal for a port; whether anything changed."""
    target = network_signal_target(tx.session, port_id, backend, plugged)
    if target is None:
        return False
    changes = {"plugged": plugged, "plugged_at": tx.now, "plug_error": None, "plug_retrying": False}
    _set(tx, target, changes, kind="plugged" if plugged else "unplugged")
    return True


def get_row(session: Session, port_id: str, host: str) -> BindingRow:
    """The stored binding, or ``NotFound``."""
    row = session.get(BindingRow, (port_id, host))
    if row is None:
        raise NotFound(f"port {port_id} has no binding on host {host}", field="host")
    return row


def get(session: Session, port_id: str, host: str) -> Binding:
    """The binding of a port on a host, or ``NotFound``."""
    return to_binding(get_row(session, port_id, host))


def list_for_port(session: Session, port_id: str) -> list[Binding]:
    """Every binding of a port, the active one first."""
    ports.get_row(session, port_id)
    rows = sorted(_rows_of_port(session, port_id), key=lambda r: (not r.active, r.host))
    return [to_binding(r) for r in rows]


def list_filtered(
    session: Session, host: str | None = None, status: str | None = None
) -> list[Binding]:
    """Every stored binding, optionally of one host and/or status, by port then host."""
    query = select(BindingRow).order_by(BindingRow.port_id, BindingRow.host)
    if host is not None:
        query = query.where(BindingRow.host == host)
    if status is not None:
        query = query.where(BindingRow.status == status)
    return [to_binding(r) for r in session.execute(query).scalars()]


def to_binding(row: BindingRow) -> Binding:
    """The served form of a stored binding."""
    return Binding.model_validate(row.doc)


def _report_for(
    session: Session, now: datetime, request: BindRequest, max_age: float
) -> tuple[HostReport | None, str | None]:
    """The report to decide from, and why it cannot be used (``None`` when it can)."""
    if request.host_report is not None:
        return request.host_report, None
    row = hosts.find(session, request.host)
    if row is None:
        return None, (
            f"host {request.host} has never sent a host report (is its agent running?); "
            "a bind request may carry one as host_report"
        )
    report = HostReport.model_validate(row.report)
    age = (now - row.received_at).total_seconds()
    if age > max_age:
        return report, (
            f"host {request.host}'s report is {age:.0f} s old (limit {max_age:.0f} s): is its "
            "agent running? A bind request may carry a fresh host_report"
        )
    return report, None


def _claim_active(tx: WriteTx, others: list[BindingRow]) -> bool:
    """Whether a new binding of a port becomes active, given the port's ``others``: yes, unless
    another binding is active and bound (live migration: the new one waits for ``activate``).
    An active binding that failed does not hold the port."""
    for other in others:
        if other.active:
            if other.status == "bound":
                return False
            _set(tx, other, {"active": False}, kind="deactivated")
            tx.session.flush()
    return True


def _store(
    tx: WriteTx,
    row: BindingRow,
    decided: Binding,
    report: HostReport | None,
    *,
    active: bool,
    kind: EventKind,
) -> Binding:
    """Store ``decided`` in ``row`` (keeping the plugged state when the host has nothing new
    to do) and return it as stored."""
    previous = to_binding(row) if row.doc is not None else None
    keep = previous is not None and previous.host_content() == decided.host_content()
    binding = decided.model_copy(
        update={
            "active": active,
            "revision": tx.revision,
            "plugged": previous.plugged if keep and previous else False,
            "plugged_at": previous.plugged_at if keep and previous else None,
            "plug_error": previous.plug_error if keep and previous else None,
        }
    )
    row.decided_revision = row.decided_revision if keep else tx.revision
    row.report = report.model_dump(mode="json") if report is not None else None
    return _write(tx, row, binding, kind)


def _set(tx: WriteTx, row: BindingRow, changes: dict[str, Any], *, kind: EventKind) -> None:
    _write(tx, row, to_binding(row).model_copy(update=changes | {"revision": tx.revision}), kind)


def _write(tx: WriteTx, row: BindingRow, binding: Binding, kind: EventKind) -> Binding:
    doc = binding.model_dump(mode="json")
    row.status, row.active, row.backend = binding.status, binding.active, binding.backend
    row.network_id = binding.network_id
    row.plugged, row.revision, row.doc = binding.plugged, binding.revision, doc
    tx.session.add(
        EventRow(
            revision=tx.revision,
            kind=kind,
            port_id=binding.port_id,
            host=binding.host,
            network_id=binding.network_id,
            binding=doc,
            created_at=tx.now,
        )
    )
    return binding


def _record_removal(tx: WriteTx, row: BindingRow) -> Binding:
    gone = to_binding(row).model_copy(
        update={"status": "unbound", "active": False, "vif": None, "revision": tx.revision}
    )
    tx.session.add(
        EventRow(
            revision=tx.revision,
            kind="deleted",
            port_id=row.port_id,
            host=row.host,
            network_id=gone.network_id,
            binding=gone.model_dump(mode="json"),
            created_at=tx.now,
        )
    )
    return gone


def _rows_of_port(session: Session, port_id: str) -> list[BindingRow]:
    return list(session.execute(select(BindingRow).where(BindingRow.port_id == port_id)).scalars())


def _first_reason(binding: Binding) -> str | None:
    return binding.decisions[0].reason if binding.decisions else None
