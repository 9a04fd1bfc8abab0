"""``/v1/ports/{id}/bindings`` and ``/v1/explain``.

The two decision endpoints are coroutines that hand their database work to a thread themselves
(a bind to the group commit's writer, an explain to the thread pool): FastAPI runs a
plain-function endpoint in a thread and then validates its answer in a second one, and those
hops cost more than the validation."""

from __future__ import annotations

from functools import partial
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.concurrency import run_in_threadpool

from vifbind.contract import Binding, BindRequest, ExplainRequest, Status
from vifbind.contract.api import PluggedReport
from vifbind.contract.types import HostName, Uuid
from vifbind.service import bindings
from vifbind.service.api.deps import Caller, IfMatch, State, state_of
from vifbind.service.auth import Action
from vifbind.service.state import ServiceState
from vifbind.service.storage.database import WriteTx, utcnow

router = APIRouter(tags=["bindings"])
PREFIX = "/v1/ports/{port_id}/bindings"


@router.post(PREFIX, status_code=status.HTTP_201_CREATED)
async def bind(
    port_id: Uuid,
    body: BindRequest,
    request: Request,
    caller: Caller,
    revision: IfMatch,
    response: Response,
) -> Binding:
    """Decide and store the port's binding to a host: 201 when created, 200 when decided again.
    A binding that could not be made is a normal answer with ``status: failed``."""
    caller.allow(Action.WRITE_BINDINGS)
    state = state_of(request)
    binding, created = await state.write_grouped(partial(_bind, state, port_id, body, revision))
    state.metrics.decisions.labels(binding.status, binding.backend or "").inc()
    if not created:
        response.status_code = status.HTTP_200_OK
    response.headers["ETag"] = str(binding.revision)
    return binding


def _bind(
    state: ServiceState, port_id: str, body: BindRequest, revision: int | None, tx: WriteTx
) -> tuple[Binding, bool]:
    decided = bindings.bind(tx, state.decider, port_id, body, revision)
    state.after_port_change(tx, port_id)
    return decided


@router.get("/v1/bindings")
def list_all_bindings(
    state: State,
    caller: Caller,
    host: Annotated[HostName | None, Query()] = None,
    binding_status: Annotated[Status | None, Query(alias="status")] = None,
) -> list[Binding]:
    """Every binding (of one host and/or with one status); an agent sees its own host's."""
    caller.allow(Action.READ_BINDINGS, host)
    if caller.role == "agent":
        host = caller.host
    with state.db.read() as session:
        return bindings.list_filtered(session, host, binding_status)


@router.get(PREFIX)
def list_bindings(port_id: Uuid, state: State, caller: Caller) -> list[Binding]:
    """Every binding of the port, the active one first."""
    caller.allow(Action.READ_BINDINGS)
    if caller.role == "agent":
        with state.db.read() as session:
            return [b for b in bindings.list_for_port(session, port_id) if b.host == caller.host]
    with state.db.read() as session:
        return bindings.list_for_port(session, port_id)


@router.get(PREFIX + "/{host}")
def get_binding(
    port_id: Uuid, host: HostName, state: State, caller: Caller, response: Response
) -> Binding:
    """The port's binding on one host, with its plugged state."""
    caller.allow(Action.READ_BINDINGS, host)
    with state.db.read() as session:
        binding = bindings.get(session, port_id, host)
    response.headers["ETag"] = str(binding.revision)
    return binding


@router.delete(PREFIX + "/{host}")
def unbind(
    port_id: Uuid, host: HostName, state: State, caller: Caller, revision: IfMatch
) -> Binding:
    """Remove the port's binding on a host; answers the binding as the host will see it."""
    caller.allow(Action.WRITE_BINDINGS)
    with state.write() as tx:
        return bindings.unbind(tx, port_id, host, revision)


@router.post(PREFIX + "/{host}/activate")
def activate(
    port_id: Uuid,
    host: HostName,
    state: State,
    caller: Caller,
    revision: IfMatch,
    response: Response,
) -> Binding:
    """Make this binding the port's active one; the previous one becomes inactive at once."""
    caller.allow(Action.WRITE_BINDINGS)
    with state.write() as tx:
        binding = bindings.activate(tx, port_id, host, revision)
    response.headers["ETag"] = str(binding.revision)
    return binding


@router.put(PREFIX + "/{host}/plugged")
def report_plugged(
    port_id: Uuid, host: HostName, body: PluggedReport, state: State, caller: Caller
) -> Binding:
    """The host says whether it has plugged the binding's current decision (agent)."""
    caller.allow(Action.REPORT_PLUGGED, host)
    with state.write() as tx:
        return bindings.set_plugged(tx, state.decider, port_id, host, body)


@router.post("/v1/explain")
async def explain(body: ExplainRequest, request: Request, caller: Caller) -> Binding:
    """What binding the port to the host would decide now, with every reason; nothing stored."""
    caller.allow(Action.EXPLAIN)
    return await run_in_threadpool(_explain, state_of(request), body)


def _explain(state: ServiceState, body: ExplainRequest) -> Binding:
    with state.db.read() as session:
        return bindings.explain(session, state.decider, body, utcnow())
