"""``/v1/networks``."""

from __future__ import annotations

from fastapi import APIRouter, Response, status
from sqlalchemy import select

from vifbind.contract.api import NetworkCreate, NetworkUpdate, NetworkView
from vifbind.contract.types import Uuid
from vifbind.service import bindings, networks
from vifbind.service.api.deps import Caller, IfMatch, State
from vifbind.service.auth import Action
from vifbind.service.storage.tables import PortRow

router = APIRouter(prefix="/v1/networks", tags=["networks"])


@router.post("", status_code=status.HTTP_201_CREATED)
def create_network(
    body: NetworkCreate, state: State, caller: Caller, response: Response
) -> NetworkView:
    """Create a network with its segments and MTU."""
    caller.allow(Action.WRITE_NETWORKS)
    with state.write() as tx:
        view = networks.create(tx, body)
    response.headers["ETag"] = str(view.revision)
    return view


@router.get("")
def list_networks(state: State, caller: Caller) -> list[NetworkView]:
    """Every network."""
    caller.allow(Action.READ_NETWORKS)
    with state.db.read() as session:
        return networks.list_all(session)


@router.get("/{network_id}")
def get_network(network_id: Uuid, state: State, caller: Caller, response: Response) -> NetworkView:
    """One network."""
    caller.allow(Action.READ_NETWORKS)
    with state.db.read() as session:
        view = networks.to_view(networks.get_row(session, network_id))
    response.headers["ETag"] = str(view.revision)
    return view


@router.patch("/{network_id}")
def update_network(
    network_id: Uuid,
    body: NetworkUpdate,
    state: State,
    caller: Caller,
    revision: IfMatch,
    response: Response,
) -> NetworkView:
    """Rename a network or change its MTU (every binding on it is then decided again)."""
    caller.allow(Action.WRITE_NETWORKS)
    with state.write() as tx:
        view, mtu_changed = networks.update(tx, network_id, body, revision)
        if mtu_changed:
            port_ids = tx.session.execute(
                select(PortRow.id).where(PortRow.network_id == network_id)
            ).scalars()
            for port_id in list(port_ids):
                bindings.redecide_port(tx, state.decider, port_id)
                state.after_port_change(tx, port_id)
    response.headers["ETag"] = str(view.revision)
    return view


@router.delete("/{network_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_network(network_id: Uuid, state: State, caller: Caller, revision: IfMatch) -> None:
    """Delete a network that has no ports."""
    caller.allow(Action.WRITE_NETWORKS)
    with state.write() as tx:
        networks.delete(tx, network_id, revision)
        state.before_network_delete(network_id)
