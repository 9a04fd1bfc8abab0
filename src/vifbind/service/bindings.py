"""Bindings: decide and store them, activate, remove, record plugged — every change an event.

All functions run inside one write transaction (``WriteTx``) that first locks the port's row,
so that concurrent requests for one port are serialised: two bind requests for the same
(port, host) leave one row, two activations leave one active binding (and a partial unique
index in the database guarantees it even against a bug here).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection
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
from vifbind.service.storage import binding_rows
from vifbind.service.storage.binding_rows import BindingRecord, BindingState
from vifbind.service.storage.database import WriteTx


@dataclass(frozen=True)
class Decider:
    """What deciding needs besides the data: the enabled backends, the report age limit, the
    backends whose network itself says when a port is plugged (OVN's ``up``), and the hosts'
    reports as parsed (one ``Decider`` per database)."""

    backends: list[Backend]
    report_max_age: float
    network_signalled: frozenset[str] = frozenset()
    reports: hosts.ParsedReports = field(default_factory=hosts.ParsedReports, compare=False)


def bind(
    tx: WriteTx, decider: Decider, port_id: str, request: BindRequest, if_match: int | None
) -> tuple[Binding, bool]:
    """Decide and store the binding of a port to ``request.host``; returns it and whether it
    was created (rather than decided again)."""
    connection = tx.connection()
    port = ports.read(connection, port_id, lock=True)
    network = networks.read(connection, port.network_id)
    others = binding_rows.states_of_port(connection, port_id)
    on_host = next((r for r in others if r.host == request.host), None)
    if if_match is not None:
        if on_host is None:
            raise Conflict(
                f"port {port_id} has no binding on host {request.host} to match If-Match",
                field="If-Match",
            )
        check_revision(if_match, on_host.revision, f"binding of port {port_id} on {request.host}")
    report, unusable = _report_for(connection, tx.now, request, decider)
    decided = decide(decider, network, port, request.host, report.model, unusable, request.profile)
    if on_host is not None:
        existing = _get_record(connection, port_id, request.host)
        stored = _store(tx, existing, decided, report.stored, active=existing.active, kind="bound")
        return stored, False
    active = _claim_active(tx, others)
    return _store(tx, None, decided, report.stored, active=active, kind="bound"), True


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
    connection = session.connection()
    port = ports.read(connection, request.port_id)
    network = networks.read(connection, port.network_id)
    report, unusable = _report_for(connection, now, request, decider)
    return decide(decider, network, port, request.host, report.model, unusable, request.profile)


def redecide_port(tx: WriteTx, decider: Decider, port_id: str) -> list[Binding]:
    """Decide every binding of a port again after the port or its network changed. The report
    each was decided from is reused (its age does not matter: the host already serves it)."""
    connection = tx.connection()
    port = ports.read(connection, port_id, lock=True)
    network = networks.read(connection, port.network_id)
    changed = []
    for record in binding_rows.of_port(connection, port_id):
        report = HostReport.model_validate(record.report) if record.report is not None else None
        previous = record.binding()
        unusable = None if report is not None else _first_reason(previous)
        decided = decide(decider, network, port, record.host, report, unusable, previous.profile)
        if (
            decided.host_content() != previous.host_content()
            or decided.decisions != previous.decisions
        ):
            stored = _store(
                tx, record, decided, record.report, active=record.active, kind="updated"
            )
            changed.append(stored)
    return changed


def activate(tx: WriteTx, port_id: str, host: str, if_match: int | None) -> Binding:
    """Make the binding on ``host`` the port's active one and every other inactive, at once."""
    connection = tx.connection()
    ports.lock(connection, port_id)
    target = _get_record(connection, port_id, host)
    check_revision(if_match, target.revision, f"binding of port {port_id} on {host}")
    if target.status != "bound":
        raise Conflict(
            f"the binding of port {port_id} on {host} is {target.status}; it cannot be activated"
        )
    if target.active:
        return target.binding()
    for other in binding_rows.of_port(connection, port_id):
        if other.active:
            _set(tx, other, {"active": False}, kind="deactivated")
    return _set(tx, target, {"active": True}, kind="activated")


def unbind(tx: WriteTx, port_id: str, host: str, if_match: int | None) -> Binding:
    """Remove the binding on ``host``; watchers see it once more with status ``unbound``."""
    connection = tx.connection()
    ports.lock(connection, port_id)
    record = _get_record(connection, port_id, host)
    check_revision(if_match, record.revision, f"binding of port {port_id} on {host}")
    gone = _record_removal(tx, record)
    binding_rows.delete_row(connection, port_id, host)
    return gone


def remove_all_of_port(tx: WriteTx, port_id: str) -> list[Binding]:
    """Record the removal of every binding of a port that is about to be deleted."""
    return [_record_removal(tx, r) for r in binding_rows.of_port(tx.connection(), port_id)]


def set_plugged(
    tx: WriteTx, decider: Decider, port_id: str, host: str, report: PluggedReport
) -> Binding:
    """Record what the host did with the binding's current decision. For the active binding of
    a backend whose network signals plugged itself, the host's "plugged" is not enough (the
    network has not claimed the port yet); only its failures are recorded."""
    connection = tx.connection()
    ports.lock(connection, port_id)
    record = _get_record(connection, port_id, host)
    if report.revision < record.decided_revision:
        raise Conflict(
            f"the binding of port {port_id} on {host} was decided again at revision "
            f"{record.decided_revision}, after the revision {report.revision} the host acted on",
            field="revision",
        )
    if report.plugged and record.status != "bound":
        raise Conflict(
            f"the binding of port {port_id} on {host} is {record.status}; nothing to plug"
        )
    if record.backend in decider.network_signalled and record.active:
        # The active binding's plugged is the network's word (OVN's up). An inactive one —
        # a migration's destination, plugged ahead — is the host's word: the network's signal
        # tells nothing about which host holds the port.
        if report.plugged or report.error is None:
            return record.binding()
        changes = {"plug_error": report.error, "plug_retrying": report.retrying}
        return _set(tx, record, changes, kind="unplugged")
    changes = {
        "plugged": report.plugged,
        "plugged_at": tx.now,
        "plug_error": None if report.plugged else report.error,
        "plug_retrying": not report.plugged and report.retrying,
    }
    return _set(tx, record, changes, kind="plugged" if report.plugged else "unplugged")


def set_plugged_many(
    tx: WriteTx, decider: Decider, host: str, reports: list[PortPlugged]
) -> list[PluggedOutcome]:
    """Record several of a host's plugged reports in one transaction; a report refused (its
    binding decided again, or gone) is answered as refused and the others are recorded."""
    outcomes = []
    for report in reports:
        try:
            # Every refusal is raised before set_plugged writes anything.
            set_plugged(tx, decider, report.port_id, host, report)
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
    connection: Connection, port_id: str, backend: str, plugged: bool
) -> BindingRecord | None:
    """The binding a network's plugged signal for a port applies to — its bound binding by
    ``backend`` that is active (or the only one) — when the signal changes it."""
    records = [
        r
        for r in binding_rows.of_port(connection, port_id)
        if r.backend == backend and r.status == "bound"
    ]
    target = next((r for r in records if r.active), records[0] if len(records) == 1 else None)
    if target is None or target.plugged == plugged:
        return None
    return target


def record_network_signal(tx: WriteTx, port_id: str, backend: str, plugged: bool) -> bool:
    """Record a network's plugged signal for a port; whether anything changed."""
    target = network_signal_target(tx.connection(), port_id, backend, plugged)
    if target is None:
        return False
    changes = {"plugged": plugged, "plugged_at": tx.now, "plug_error": None, "plug_retrying": False}
    _set(tx, target, changes, kind="plugged" if plugged else "unplugged")
    return True


def get(session: Session, port_id: str, host: str) -> Binding:
    """The binding of a port on a host, or ``NotFound``."""
    return _get_record(session.connection(), port_id, host).binding()


def list_for_port(session: Session, port_id: str) -> list[Binding]:
    """Every binding of a port, the active one first."""
    connection = session.connection()
    ports.read(connection, port_id)
    records = sorted(
        binding_rows.of_port(connection, port_id), key=lambda r: (not r.active, r.host)
    )
    return [r.binding() for r in records]


def list_filtered(
    session: Session, host: str | None = None, status: str | None = None
) -> list[Binding]:
    """Every stored binding, optionally of one host and/or status, by port then host."""
    docs = binding_rows.docs(session.connection(), host, status)
    return [Binding.model_validate(doc) for doc in docs]


@dataclass(frozen=True)
class _Report:
    """The host report a decision is made from, and its JSON form, stored with the binding."""

    model: HostReport | None
    stored: dict[str, Any] | None


def _report_for(
    connection: Connection, now: datetime, request: BindRequest, decider: Decider
) -> tuple[_Report, str | None]:
    """The report to decide from, and why it cannot be used (``None`` when it can)."""
    if request.host_report is not None:
        carried = request.host_report
        return _Report(carried, carried.model_dump(mode="json")), None
    found = decider.reports.find(connection, request.host)
    if found is None:
        return _Report(None, None), (
            f"host {request.host} has never sent a host report (is its agent running?); "
            "a bind request may carry one as host_report"
        )
    report = _Report(found.model, found.doc)
    age = (now - found.received_at).total_seconds()
    max_age = decider.report_max_age
    if age > max_age:
        return report, (
            f"host {request.host}'s report is {age:.0f} s old (limit {max_age:.0f} s): is its "
            "agent running? A bind request may carry a fresh host_report"
        )
    return report, None


def _get_record(connection: Connection, port_id: str, host: str) -> BindingRecord:
    record = binding_rows.find(connection, port_id, host)
    if record is None:
        raise NotFound(f"port {port_id} has no binding on host {host}", field="host")
    return record


def _claim_active(tx: WriteTx, others: list[BindingState]) -> bool:
    """Whether a new binding of a port becomes active, given the port's ``others``: yes, unless
    another binding is active and bound (live migration: the new one waits for ``activate``).
    An active binding that failed does not hold the port; it is deactivated here, before the
    new one is written."""
    for other in others:
        if other.active:
            if other.status == "bound":
                return False
            record = _get_record(tx.connection(), other.port_id, other.host)
            _set(tx, record, {"active": False}, kind="deactivated")
    return True


def _store(
    tx: WriteTx,
    existing: BindingRecord | None,
    decided: Binding,
    report: dict[str, Any] | None,
    *,
    active: bool,
    kind: EventKind,
) -> Binding:
    """Store ``decided`` over ``existing`` (keeping the plugged state when the host has nothing
    new to do), or as a new binding, with the ``report`` it was decided from; returns it as
    stored."""
    previous = existing.binding() if existing is not None else None
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
    decided_revision = existing.decided_revision if keep and existing else tx.revision
    columns = {"decided_revision": decided_revision, "report": report}
    return _write(tx, binding, kind, columns, new=existing is None)


def _set(
    tx: WriteTx, record: BindingRecord, changes: dict[str, Any], *, kind: EventKind
) -> Binding:
    binding = record.binding().model_copy(update=changes | {"revision": tx.revision})
    return _write(tx, binding, kind, {})


def _write(
    tx: WriteTx, binding: Binding, kind: EventKind, columns: dict[str, Any], *, new: bool = False
) -> Binding:
    """Write ``binding`` (and the extra ``columns``) to its row and record the change."""
    doc = binding.model_dump(mode="json")
    values = binding_rows.served_columns(binding, doc) | columns
    connection = tx.connection()
    if new:
        binding_rows.insert_row(connection, binding.port_id, binding.host, values)
    else:
        binding_rows.update_row(connection, binding.port_id, binding.host, values)
    binding_rows.insert_event(connection, tx.revision, kind, doc, tx.now)
    return binding


def _record_removal(tx: WriteTx, record: BindingRecord) -> Binding:
    gone = record.binding().model_copy(
        update={"status": "unbound", "active": False, "vif": None, "revision": tx.revision}
    )
    binding_rows.insert_event(
        tx.connection(), tx.revision, "deleted", gone.model_dump(mode="json"), tx.now
    )
    return gone


def _first_reason(binding: Binding) -> str | None:
    return binding.decisions[0].reason if binding.decisions else None
