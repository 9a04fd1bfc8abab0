"""``/v1/hosts``: reports, and the agent's watch of its own bindings."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from vifbind.contract import HostReport
from vifbind.contract.api import HostBindings, HostView, PluggedOutcomes, PluggedReports
from vifbind.contract.types import HostName
from vifbind.errors import InvalidInput
from vifbind.service import bindings, hosts, watch
from vifbind.service.api.deps import Caller, State
from vifbind.service.api.longpoll import long_poll
from vifbind.service.auth import Action
from vifbind.service.storage.database import utcnow

router = APIRouter(prefix="/v1/hosts", tags=["hosts"])

REVISION_MAX = 2**63 - 1
Since = Annotated[
    int, Query(ge=0, le=REVISION_MAX, description="Revision already seen; 0 = everything.")
]
Wait = Annotated[
    float,
    Query(ge=0, le=3600, description="Seconds to hold the request for a change (capped)."),
]


@router.put("/{host}/plugged")
def report_plugged_many(
    host: HostName, body: PluggedReports, state: State, caller: Caller
) -> PluggedOutcomes:
    """The host says, for several bindings at once, whether it plugged their current decision
    (agent); each report is recorded or refused as ``PUT …/bindings/{host}/plugged`` would be."""
    caller.allow(Action.REPORT_PLUGGED, host)
    with state.write() as tx:
        outcomes = bindings.set_plugged_many(tx, state.decider, host, body.reports)
    return PluggedOutcomes(outcomes=outcomes)


@router.put("/{host}")
def put_report(host: HostName, body: HostReport, state: State, caller: Caller) -> HostView:
    """Store the host's report (an agent may report only for its own host)."""
    caller.allow(Action.REPORT_HOST, host)
    if body.host != host:
        raise InvalidInput(f"host: the report is for {body.host!r}, not {host!r}", field="host")
    with state.write() as tx:
        return hosts.store(tx, body)


@router.get("")
def list_hosts(state: State, caller: Caller) -> list[HostView]:
    """Every host that reported."""
    caller.allow(Action.READ_HOSTS, None if caller.role != "agent" else caller.host)
    with state.db.read() as session:
        views = hosts.list_all(session, utcnow())
    return [v for v in views if caller.role != "agent" or v.host == caller.host]


@router.get("/{host}")
def get_host(host: HostName, state: State, caller: Caller) -> HostView:
    """A host's report and its age."""
    caller.allow(Action.READ_HOSTS, host)
    with state.db.read() as session:
        return hosts.get(session, host, utcnow())


@router.get("/{host}/bindings")
async def watch_host(
    host: HostName, state: State, caller: Caller, since: Since = 0, wait: Wait = 0
) -> HostBindings:
    """The host's bindings changed after ``since``; with ``wait``, held until there is a change
    or the time is up (long poll)."""
    caller.allow(Action.WATCH_HOST, host)

    def query() -> HostBindings:
        with state.db.read() as session:
            return watch.host_changes(session, host, since)

    return await long_poll(
        state,
        query,
        lambda answer: answer.revision,
        lambda answer: answer.complete or bool(answer.bindings) or answer.peers_changed,
        wait,
    )
