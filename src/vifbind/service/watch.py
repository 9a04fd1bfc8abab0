"""What watchers are served: a host's binding changes, and the event log, after a revision.

The current revision is read *before* the changes: anything committed later has a larger
revision and will wake the watcher, so nothing falls between a query and the wait after it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, case, or_, select, type_coerce
from sqlalchemy.orm import Session

from vifbind.contract import Binding
from vifbind.contract.api import Event, Events, HostBindings
from vifbind.service.storage.tables import BindingRow, CounterRow, EventRow

MAX_EVENTS = 1000


def current_revision(session: Session) -> int:
    """The last committed revision, as this session sees it."""
    value: int = session.get_one(CounterRow, "revision").value
    return value


TUNNELLED_BY_HOSTS = frozenset({"linuxbridge"})
"""Backends whose overlay the hosts build themselves, so each needs the others' endpoints."""


def host_changes(session: Session, host: str, since: int) -> HostBindings:
    """The host's bindings changed after ``since`` (all of them when ``since`` is 0, or ahead
    of this database — a restored database makes the watcher start over), with the tunnel
    peers of its networks. ``bindings`` stays empty when only the peers changed."""
    revision = current_revision(session)
    peers = _peers(session, host)
    if since <= 0 or since > revision:
        # The documents alone: a binding's row also holds the report it was decided from,
        # which a host with thousands of ports would have decoded for nothing.
        docs = session.execute(
            select(BindingRow.doc).where(BindingRow.host == host).order_by(BindingRow.port_id)
        ).scalars()
        return HostBindings(
            revision=revision,
            complete=True,
            bindings=[Binding.model_validate(doc) for doc in docs],
            peers=peers,
        )
    # Columns, not ORM objects; and the binding documents of this host's events only (those
    # of its networks' other hosts say only that the peers may have changed).
    own_doc = type_coerce(case((EventRow.host == host, EventRow.binding)), JSON)
    events = session.execute(
        select(EventRow.revision, EventRow.host, EventRow.port_id, own_doc)
        .where(
            EventRow.revision > since,
            or_(EventRow.host == host, EventRow.network_id.in_(list(peers))),
        )
        .order_by(EventRow.revision, EventRow.id)
    ).all()
    latest: dict[str, dict[str, Any]] = {}
    peers_changed = False
    for event_revision, event_host, port_id, doc in events:
        revision = max(revision, event_revision)
        if event_host == host:
            # Only a port's last event is served (and validated), in the order of the last ones.
            latest.pop(port_id, None)
            latest[port_id] = doc
        else:
            peers_changed = True
    return HostBindings(
        revision=revision,
        complete=False,
        bindings=[Binding.model_validate(doc) for doc in latest.values()],
        peers=peers,
        peers_changed=peers_changed,
    )


def _peers(session: Session, host: str) -> dict[str, list[str]]:
    """Per network the host carries over VXLAN itself, the other hosts' VXLAN endpoints.

    Asked on every watch request: the database picks the two JSON values it needs, rather than
    this process decoding every binding of the host (and its report) each time.
    """
    tunnelled = (BindingRow.status == "bound", BindingRow.backend.in_(TUNNELLED_BY_HOSTS))
    networks = set(
        session.execute(
            select(BindingRow.network_id)
            .distinct()
            .where(
                BindingRow.host == host,
                *tunnelled,
                BindingRow.network_id.is_not(None),
                BindingRow.doc["segment"]["type"].as_string() == "vxlan",
            )
        ).scalars()
    )
    peers: dict[str, set[str]] = {n: set() for n in networks if n is not None}
    if not peers:
        return {}
    others = session.execute(
        select(BindingRow.network_id, BindingRow.report["tunnels"]["vxlan"].as_string())
        .distinct()
        .where(BindingRow.network_id.in_(peers), BindingRow.host != host, *tunnelled)
    )
    for network_id, endpoint in others:
        if endpoint and network_id is not None:
            peers[network_id].add(endpoint)
    return {n: sorted(ips) for n, ips in sorted(peers.items())}


def events_since(
    session: Session, since: int, port_id: str | None = None, host: str | None = None
) -> Events:
    """Binding events after ``since``, oldest first: about ``MAX_EVENTS`` at most, never part
    of a transaction's (ask again from the answer's revision for more)."""
    revision = current_revision(session)
    query = select(EventRow).where(EventRow.revision > since)
    if port_id is not None:
        query = query.where(EventRow.port_id == port_id)
    if host is not None:
        query = query.where(EventRow.host == host)
    rows = list(
        session.execute(query.order_by(EventRow.revision, EventRow.id).limit(MAX_EVENTS)).scalars()
    )
    if len(rows) == MAX_EVENTS:
        # Stop at a revision boundary: the next page starts after the answer's revision, so a
        # page that ended inside a transaction would lose the rest of it.
        last = rows[-1].revision
        rows = [r for r in rows if r.revision < last] or list(
            # One transaction wrote more events than a page holds (a host's batch of plugged
            # reports): it is served whole.
            session.execute(query.where(EventRow.revision == last).order_by(EventRow.id)).scalars()
        )
        revision = rows[-1].revision
    elif rows:
        revision = max(revision, rows[-1].revision)
    return Events(
        revision=revision,
        events=[
            Event(
                revision=r.revision,
                kind=r.kind,  # type: ignore[arg-type]
                port_id=r.port_id,
                host=r.host,
                binding=Binding.model_validate(r.binding),
                created_at=r.created_at,
            )
            for r in rows
        ],
    )
