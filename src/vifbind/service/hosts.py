"""Host reports: stored as each host's agent sends them, with their age."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, select
from sqlalchemy.orm import Session

from vifbind.contract import HostReport
from vifbind.contract.api import HostView
from vifbind.errors import NotFound
from vifbind.service.storage.database import WriteTx
from vifbind.service.storage.tables import HOST_REPORTS, HostReportRow

_STAMP = select(HOST_REPORTS.c.revision, HOST_REPORTS.c.received_at).where(
    HOST_REPORTS.c.host == bindparam("host")
)
_REPORT = select(HOST_REPORTS.c.report, HOST_REPORTS.c.revision, HOST_REPORTS.c.received_at).where(
    HOST_REPORTS.c.host == bindparam("host")
)


@dataclass(frozen=True)
class StoredReport:
    """A host's stored report: validated, its JSON form, and when it was received."""

    model: HostReport
    doc: dict[str, Any]
    received_at: datetime


class ParsedReports:
    """The hosts' stored reports, read and validated once per revision of each.

    Every decision reads its host's report; validating it again each time (addresses, nested
    models) was a tenth of a bind's CPU. A stored report never changes under the revision it was
    stored with (a new report is a new revision), so a report whose row still holds the revision
    it was parsed at is the same report. One per database: revisions are its own."""

    def __init__(self, limit: int = 10_000) -> None:
        self._limit = limit
        self._lock = threading.Lock()
        self._by_host: dict[str, tuple[int, HostReport, dict[str, Any]]] = {}

    def find(self, connection: Connection, host: str) -> StoredReport | None:
        """A host's stored report, if it ever reported."""
        stamp = connection.execute(_STAMP, {"host": host}).first()
        if stamp is None:
            return None
        known = self._by_host.get(host)
        if known is not None and known[0] == stamp.revision:
            return StoredReport(known[1], known[2], stamp.received_at)
        row = connection.execute(_REPORT, {"host": host}).first()
        if row is None:  # removed since the first read (another replica)
            return None
        model = HostReport.model_validate(row.report)
        with self._lock:
            self._by_host.pop(host, None)
            self._by_host[host] = (row.revision, model, row.report)
            if len(self._by_host) > self._limit:
                del self._by_host[next(iter(self._by_host))]
        return StoredReport(model, row.report, row.received_at)


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


def list_all(session: Session, now: datetime) -> list[HostView]:
    """Every host that reported, by name."""
    rows = session.execute(select(HostReportRow).order_by(HostReportRow.host)).scalars()
    return [to_view(r, now) for r in rows]
