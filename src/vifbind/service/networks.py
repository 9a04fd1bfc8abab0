"""Networks: create, read, update (name, MTU), delete."""

from __future__ import annotations

import uuid

from sqlalchemy import Connection, bindparam, select
from sqlalchemy.orm import Session

from vifbind.contract import Network
from vifbind.contract.api import NetworkCreate, NetworkUpdate, NetworkView
from vifbind.errors import Conflict, NotFound
from vifbind.service.revisions import check_revision
from vifbind.service.storage.database import WriteTx
from vifbind.service.storage.tables import NETWORKS, NetworkRow, PortRow

_READ = select(NETWORKS.c.id, NETWORKS.c.name, NETWORKS.c.mtu, NETWORKS.c.segments).where(
    NETWORKS.c.id == bindparam("network_id")
)


def to_contract(row: NetworkRow) -> Network:
    """The contract form of a stored network (what negotiation reads)."""
    return Network.model_validate(
        {"id": row.id, "name": row.name, "mtu": row.mtu, "segments": row.segments}
    )


def read(connection: Connection, network_id: str) -> Network:
    """The contract form of a stored network, read with a Core statement (no ORM object), or
    ``NotFound``."""
    row = connection.execute(_READ, {"network_id": network_id}).first()
    if row is None:
        raise _missing(network_id)
    return Network.model_validate(row._asdict())


def to_view(row: NetworkRow) -> NetworkView:
    """The served form of a stored network."""
    return NetworkView.model_validate(to_contract(row).model_dump() | {"revision": row.revision})


def get_row(session: Session, network_id: str, *, lock: bool = False) -> NetworkRow:
    """The stored network, or ``NotFound``."""
    query = select(NetworkRow).where(NetworkRow.id == network_id)
    row = session.execute(query.with_for_update() if lock else query).scalar_one_or_none()
    if row is None:
        raise _missing(network_id)
    return row


def _missing(network_id: str) -> NotFound:
    return NotFound(f"network {network_id} does not exist", field="network_id")


def create(tx: WriteTx, request: NetworkCreate) -> NetworkView:
    """Store a new network."""
    network_id = request.id or str(uuid.uuid4())
    if tx.session.get(NetworkRow, network_id) is not None:
        raise Conflict(f"network {network_id} already exists", field="id")
    row = NetworkRow(
        id=network_id,
        name=request.name,
        mtu=request.mtu,
        segments=[s.model_dump(mode="json") for s in request.segments],
        revision=tx.revision,
        created_at=tx.now,
    )
    tx.session.add(row)
    return to_view(row)


def list_all(session: Session) -> list[NetworkView]:
    """Every network, by name then id."""
    rows = session.execute(select(NetworkRow).order_by(NetworkRow.name, NetworkRow.id)).scalars()
    return [to_view(r) for r in rows]


def update(
    tx: WriteTx, network_id: str, request: NetworkUpdate, if_match: int | None
) -> tuple[NetworkView, bool]:
    """Change name and/or MTU; returns the view and whether the MTU changed (bindings then
    need deciding again)."""
    row = get_row(tx.session, network_id, lock=True)
    check_revision(if_match, row.revision, f"network {network_id}")
    mtu_changed = request.mtu is not None and request.mtu != row.mtu
    if request.name is not None:
        row.name = request.name
    if request.mtu is not None:
        row.mtu = request.mtu
    row.revision = tx.revision
    return to_view(row), mtu_changed


def delete(tx: WriteTx, network_id: str, if_match: int | None) -> None:
    """Remove a network that has no ports left."""
    row = get_row(tx.session, network_id, lock=True)
    check_revision(if_match, row.revision, f"network {network_id}")
    in_use = tx.session.execute(
        select(PortRow.id).where(PortRow.network_id == network_id).limit(1)
    ).scalar_one_or_none()
    if in_use is not None:
        raise Conflict(f"network {network_id} still has ports (e.g. {in_use}); delete them first")
    tx.session.delete(row)
