"""Host reports: stored as each host's agent sends them, with their age."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, select
from sqlalchemy.orm import Session

from vifbind.contract import HostReport
from vifbind.contract.api import HostView
from vifbind.errors import NotFound
from vifbind.service.storage.database import WriteTx
from vifbind.service.storage.tables import HOST_REPORTS, HostReportRow

_REPORT = select(HOST_REPORTS.c.report, HOST_REPORTS.c.received_at).where(
    HOST_REPORTS.c.host == bindparam("host")
)


def to_view(row: HostReportRow, now: datetime) -> HostView:
    """The served form of a stored report."""
    return HostView(
        host=row.host,
        report=HostReport.model_validate(row.report),
        received_at=row.received_at,
        age_seconds=max(0.0, (now - row.received_at).total_seconds()),
        revision=row.revision,
    )


def store(tx: WriteTx, report: HostReport) -> HostView:
    """Store (or replace) a host's report, received now."""
    row = tx.session.get(HostReportRow, report.host)
    data = report.model_dump(mode="json")
    if row is None:
        row = HostReportRow(host=report.host, report=data, received_at=tx.now, revision=tx.revision)
        tx.session.add(row)
    else:
        row.report, row.received_at, row.revision = data, tx.now, tx.revision
    return to_view(row, tx.now)


def get(session: Session, host: str, now: datetime) -> HostView:
    """A host's stored report, or ``NotFound``."""
    row = session.get(HostReportRow, host)
    if row is None:
        raise NotFound(f"host {host} has never reported", field="host")
    return to_view(row, now)


def find(connection: Connection, host: str) -> tuple[dict[str, Any], datetime] | None:
    """A host's stored report (its JSON form) and when it was received, if it ever reported;
    read with a Core statement (no ORM object)."""
    row = connection.execute(_REPORT, {"host": host}).first()
    return None if row is None else (row.report, row.received_at)


def list_all(session: Session, now: datetime) -> list[HostView]:
    """Every host that reported, by name."""
    rows = session.execute(select(HostReportRow).order_by(HostReportRow.host)).scalars()
    return [to_view(r, now) for r in rows]
