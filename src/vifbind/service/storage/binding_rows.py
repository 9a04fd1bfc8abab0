"""Rows of ``bindings`` and ``events``, read and written with SQLAlchemy Core statements.

Binding is the service's busiest write. Through the ORM, its unit of work (identity map,
attribute events, flush ordering) around four statements cost about half of a decision's CPU;
these statements are built once and run as called, in that order — so a deactivation is
written before the activation that the one-active-binding index would otherwise refuse.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, delete, insert, select, update

from vifbind.contract import Binding
from vifbind.service.storage.tables import BINDINGS, EVENTS

_STATE_COLUMNS = (
    "port_id",
    "host",
    "network_id",
    "status",
    "active",
    "backend",
    "plugged",
    "revision",
    "decided_revision",
)
_STATES_OF_PORT = select(*(BINDINGS.c[name] for name in _STATE_COLUMNS)).where(
    BINDINGS.c.port_id == bindparam("port_id")
)
_OF_PORT = select(BINDINGS).where(BINDINGS.c.port_id == bindparam("port_id"))
_ONE = _OF_PORT.where(BINDINGS.c.host == bindparam("host"))
_INSERT = insert(BINDINGS)
# The SET clause is made of the parameters' other keys: only what the caller changes.
_UPDATE = update(BINDINGS).where(
    BINDINGS.c.port_id == bindparam("key_port_id"), BINDINGS.c.host == bindparam("key_host")
)
_DELETE = delete(BINDINGS).where(
    BINDINGS.c.port_id == bindparam("port_id"), BINDINGS.c.host == bindparam("host")
)
_EVENT = insert(EVENTS)
_BOUND_BY = (
    select(BINDINGS.c.host)
    .where(
        BINDINGS.c.port_id == bindparam("port_id"),
        BINDINGS.c.backend == bindparam("backend"),
        BINDINGS.c.status == "bound",
    )
    .limit(1)
)


@dataclass(frozen=True)
class BindingState:
    """One stored binding's columns, without its JSON documents (read for every binding of a
    port, where only one or none of them is needed whole)."""

    port_id: str
    host: str
    network_id: str | None
    status: str
    active: bool
    backend: str | None
    plugged: bool
    revision: int
    decided_revision: int
    """Revision of the last decision; plugged reports about older decisions are refused."""


@dataclass(frozen=True)
class BindingRecord(BindingState):
    """One stored binding: the binding as served (``doc``) and the columns kept beside it."""

    report: dict[str, Any] | None
    """The host report (JSON form) the decision was made from."""
    doc: dict[str, Any]

    def binding(self) -> Binding:
        """The served form."""
        return Binding.model_validate(self.doc)


def states_of_port(connection: Connection, port_id: str) -> list[BindingState]:
    """The columns of every stored binding of a port, without the JSON documents."""
    rows = connection.execute(_STATES_OF_PORT, {"port_id": port_id})
    return [BindingState(**r._mapping) for r in rows]


def of_port(connection: Connection, port_id: str) -> list[BindingRecord]:
    """Every stored binding of a port."""
    return [BindingRecord(**r._mapping) for r in connection.execute(_OF_PORT, {"port_id": port_id})]


def find(connection: Connection, port_id: str, host: str) -> BindingRecord | None:
    """The stored binding of a port on a host, if any."""
    row = connection.execute(_ONE, {"port_id": port_id, "host": host}).first()
    return None if row is None else BindingRecord(**row._mapping)


def docs(connection: Connection, host: str | None, status: str | None) -> list[dict[str, Any]]:
    """The served form of every stored binding, optionally of one host and/or status, by port
    then host."""
    query = select(BINDINGS.c.doc).order_by(BINDINGS.c.port_id, BINDINGS.c.host)
    if host is not None:
        query = query.where(BINDINGS.c.host == host)
    if status is not None:
        query = query.where(BINDINGS.c.status == status)
    return list(connection.execute(query).scalars())


def has_bound(connection: Connection, port_id: str, backend: str) -> bool:
    """Whether one of the port's bindings is bound by ``backend``."""
    found = connection.execute(_BOUND_BY, {"port_id": port_id, "backend": backend}).first()
    return found is not None


def served_columns(binding: Binding, doc: dict[str, Any]) -> dict[str, Any]:
    """The columns that repeat a binding's served form ``doc`` for queries and constraints."""
    return {
        "network_id": binding.network_id,
        "status": binding.status,
        "active": binding.active,
        "backend": binding.backend,
        "plugged": binding.plugged,
        "revision": binding.revision,
        "doc": doc,
    }


def insert_row(connection: Connection, port_id: str, host: str, columns: dict[str, Any]) -> None:
    """Store a new binding of a port on a host."""
    connection.execute(_INSERT, columns | {"port_id": port_id, "host": host})


def update_row(connection: Connection, port_id: str, host: str, columns: dict[str, Any]) -> None:
    """Change some ``columns`` of a stored binding."""
    connection.execute(_UPDATE, columns | {"key_port_id": port_id, "key_host": host})


def delete_row(connection: Connection, port_id: str, host: str) -> None:
    """Remove a stored binding."""
    connection.execute(_DELETE, {"port_id": port_id, "host": host})


def insert_event(
    connection: Connection, revision: int, kind: str, doc: dict[str, Any], now: datetime
) -> None:
    """Record a change to a binding (``doc``: its served form after the change) for watchers."""
    connection.execute(
        _EVENT,
        {
            "revision": revision,
            "kind": kind,
            "port_id": doc["port_id"],
            "host": doc["host"],
            "network_id": doc.get("network_id"),
            "binding": doc,
            "created_at": now,
        },
    )
