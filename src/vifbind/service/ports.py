"""Ports: create (MAC allocated when absent), read, update, delete."""

from __future__ import annotations

import secrets
import uuid
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Connection, bindparam, select
from sqlalchemy import delete as sql_delete
from sqlalchemy.orm import Session

from vifbind.contract import Port
from vifbind.contract.api import PortCreate, PortUpdate, PortView
from vifbind.contract.vifs import field_path
from vifbind.errors import Conflict, InvalidInput, NotFound
from vifbind.service import networks
from vifbind.service.revisions import check_revision
from vifbind.service.storage.database import WriteTx
from vifbind.service.storage.tables import PORTS, PortAddressRow, PortRow

MAC_ATTEMPTS = 16
CONTRACT_FIELDS = (
    "id",
    "network_id",
    "mac",
    "fixed_ips",
    "vnic_type",
    "port_security",
    "allowed_address_pairs",
    "security_groups",
    "device_id",
)
"""The columns of ``ports`` that make the contract's ``Port``."""
_READ = select(*(PORTS.c[name] for name in CONTRACT_FIELDS)).where(
    PORTS.c.id == bindparam("port_id")
)
_READ_LOCKED = _READ.with_for_update()
_LOCK = select(PORTS.c.id).where(PORTS.c.id == bindparam("port_id")).with_for_update()


def to_view(row: PortRow) -> PortView:
    """The served form of a stored port."""
    return PortView.model_validate(_fields(row) | {"revision": row.revision})


def _fields(row: PortRow) -> dict[str, Any]:
    return {name: getattr(row, name) for name in CONTRACT_FIELDS}


def get_row(session: Session, port_id: str, *, lock: bool = False) -> PortRow:
    """The stored port, or ``NotFound``. ``lock`` serialises writers of this port (PostgreSQL
    row lock; SQLite writers are serialised anyway)."""
    query = select(PortRow).where(PortRow.id == port_id)
    row = session.execute(query.with_for_update() if lock else query).scalar_one_or_none()
    if row is None:
        raise _missing(port_id)
    return row


def read(connection: Connection, port_id: str, *, lock: bool = False) -> Port:
    """The contract form of a stored port, read with a Core statement (no ORM object), or
    ``NotFound``; ``lock`` as in ``get_row``."""
    row = connection.execute(_READ_LOCKED if lock else _READ, {"port_id": port_id}).first()
    if row is None:
        raise _missing(port_id)
    return Port.model_validate(row._asdict())


def lock(connection: Connection, port_id: str) -> None:
    """Lock the port's row for this transaction (as ``get_row`` with ``lock``), or
    ``NotFound``."""
    if connection.execute(_LOCK, {"port_id": port_id}).first() is None:
        raise _missing(port_id)


def _missing(port_id: str) -> NotFound:
    return NotFound(f"port {port_id} does not exist", field="port_id")


def create(tx: WriteTx, request: PortCreate, mac_prefix: str) -> PortView:
    """Store a new port on an existing network; its addresses must be free on that network."""
    network = networks.get_row(tx.session, request.network_id)
    port_id = request.id or str(uuid.uuid4())
    if tx.session.get(PortRow, port_id) is not None:
        raise Conflict(f"port {port_id} already exists", field="id")
    mac = request.mac or _free_mac(tx.session, network.id, mac_prefix)
    _check_mac_free(tx.session, network.id, mac, port_id)
    data = request.model_dump(mode="json") | {"id": port_id, "mac": mac}
    port = _validated(data)
    row = PortRow(
        id=port.id,
        network_id=port.network_id,
        mac=port.mac,
        fixed_ips=list(port.fixed_ips),
        vnic_type=port.vnic_type,
        port_security=port.port_security,
        allowed_address_pairs=[p.model_dump(mode="json") for p in port.allowed_address_pairs],
        security_groups=list(port.security_groups),
        device_id=port.device_id,
        revision=tx.revision,
        created_at=tx.now,
    )
    tx.session.add(row)
    tx.session.flush()
    _claim_addresses(tx.session, row, port.fixed_ips)
    return to_view(row)


def update(tx: WriteTx, port_id: str, request: PortUpdate, if_match: int | None) -> PortView:
    """Change a port's fields; the caller decides its bindings again."""
    row = get_row(tx.session, port_id, lock=True)
    check_revision(if_match, row.revision, f"port {port_id}")
    changes = request.model_dump(mode="json", exclude_unset=True)
    port = _validated(_fields(row) | changes)
    row.fixed_ips = list(port.fixed_ips)
    row.vnic_type = port.vnic_type
    row.port_security = port.port_security
    row.allowed_address_pairs = [p.model_dump(mode="json") for p in port.allowed_address_pairs]
    row.security_groups = list(port.security_groups)
    row.device_id = port.device_id
    row.revision = tx.revision
    if "fixed_ips" in changes:
        tx.session.execute(sql_delete(PortAddressRow).where(PortAddressRow.port_id == port_id))
        tx.session.flush()
        _claim_addresses(tx.session, row, port.fixed_ips)
    return to_view(row)


def delete(tx: WriteTx, port_id: str, if_match: int | None) -> None:
    """Remove a port (its addresses and bindings go with it; the caller records the events)."""
    row = get_row(tx.session, port_id, lock=True)
    check_revision(if_match, row.revision, f"port {port_id}")
    tx.session.delete(row)


def list_filtered(
    session: Session, network_id: str | None = None, device_id: str | None = None
) -> list[PortView]:
    """Ports, optionally of one network and/or one device, in creation order."""
    query = select(PortRow).order_by(PortRow.created_at, PortRow.id)
    if network_id is not None:
        query = query.where(PortRow.network_id == network_id)
    if device_id is not None:
        query = query.where(PortRow.device_id == device_id)
    return [to_view(r) for r in session.execute(query).scalars()]


def _validated(data: dict[str, Any]) -> Port:
    try:
        return Port.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = field_path(err["loc"]) or None
        message = err["msg"].removeprefix("Value error, ")
        raise InvalidInput(f"{field + ': ' if field else ''}{message}", field=field) from None


def _claim_addresses(session: Session, row: PortRow, ips: list[str]) -> None:
    for ip in ips:
        holder = session.get(PortAddressRow, (row.network_id, ip))
        if holder is not None:
            raise Conflict(
                f"fixed_ips: {ip} is already used by port {holder.port_id} on network "
                f"{row.network_id}",
                field="fixed_ips",
            )
        session.add(PortAddressRow(network_id=row.network_id, ip=ip, port_id=row.id))


def _check_mac_free(session: Session, network_id: str, mac: str, port_id: str) -> None:
    holder = session.execute(
        select(PortRow.id).where(PortRow.network_id == network_id, PortRow.mac == mac)
    ).scalar_one_or_none()
    if holder is not None and holder != port_id:
        raise Conflict(f"mac: {mac} is already used by port {holder} on this network", field="mac")


def _free_mac(session: Session, network_id: str, prefix: str) -> str:
    for _ in range(MAC_ATTEMPTS):
        mac = prefix + "".join(f":{b:02x}" for b in secrets.token_bytes(3))
        taken = session.execute(
            select(PortRow.id).where(PortRow.network_id == network_id, PortRow.mac == mac)
        ).first()
        if taken is None:
            return mac
    raise Conflict(f"no free MAC address with prefix {prefix} found on network {network_id}")
