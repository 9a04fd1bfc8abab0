"""``/v1/ports``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from vifbind.contract.api import PortCreate, PortUpdate, PortView
from vifbind.contract.types import DeviceId, Uuid
from vifbind.service import bindings, ports
from vifbind.service.api.deps import Caller, IfMatch, State
from vifbind.service.auth import Action

router = APIRouter(prefix="/v1/ports", tags=["ports"])


@router.post("", status_code=status.HTTP_201_CREATED)
def create_port(body: PortCreate, state: State, caller: Caller, response: Response) -> PortView:
    """Create a port; a MAC is allocated when none is given."""
    caller.allow(Action.WRITE_PORTS)
    with state.write() as tx:
        view = ports.create(tx, body, state.settings.mac_prefix)
    response.headers["ETag"] = str(view.revision)
    return view


@router.get("")
def list_ports(
    state: State,
    caller: Caller,
    network_id: Annotated[Uuid | None, Query()] = None,
    device_id: Annotated[DeviceId | None, Query()] = None,
) -> list[PortView]:
    """Ports, optionally of one network and/or one device."""
    caller.allow(Action.READ_PORTS)
    with state.db.read() as session:
        return ports.list_filtered(session, network_id, device_id)


@router.get("/{port_id}")
def get_port(port_id: Uuid, state: State, caller: Caller, response: Response) -> PortView:
    """One port."""
    caller.allow(Action.READ_PORTS)
    with state.db.read() as session:
        view = ports.to_view(ports.get_row(session, port_id))
    response.headers["ETag"] = str(view.revision)
    return view


@router.patch("/{port_id}")
def update_port(
    port_id: Uuid,
    body: PortUpdate,
    state: State,
    caller: Caller,
    revision: IfMatch,
    response: Response,
) -> PortView:
    """Change a port; its bindings are decided again in the same transaction."""
    caller.allow(Action.WRITE_PORTS)
    with state.write() as tx:
        view = ports.update(tx, port_id, body, revision)
        bindings.redecide_port(tx, state.decider, port_id)
        state.after_port_change(tx, port_id)
    response.headers["ETag"] = str(view.revision)
    return view


@router.delete("/{port_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_port(port_id: Uuid, state: State, caller: Caller, revision: IfMatch) -> None:
    """Delete a port and its bindings (hosts see them unbound)."""
    caller.allow(Action.WRITE_PORTS)
    with state.write() as tx:
        ports.get_row(tx.session, port_id, lock=True)
        bindings.remove_all_of_port(tx, port_id)
        ports.delete(tx, port_id, revision)
        state.before_port_delete(port_id)
