"""``/v1/events``: every binding change, in order, with long polling."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from vifbind.contract.api import Events
from vifbind.contract.types import HostName, Uuid
from vifbind.service import watch
from vifbind.service.api.deps import Caller, State
from vifbind.service.api.hosts import Since, Wait
from vifbind.service.api.longpoll import long_poll
from vifbind.service.auth import Action

router = APIRouter(prefix="/v1/events", tags=["events"])


@router.get("")
async def list_events(
    state: State,
    caller: Caller,
    since: Since = 0,
    wait: Wait = 0,
    port_id: Annotated[Uuid | None, Query()] = None,
    host: Annotated[HostName | None, Query()] = None,
) -> Events:
    """Binding events after ``since`` (optionally of one port and/or host); with ``wait``,
    held until there is one or the time is up."""
    caller.allow(Action.READ_EVENTS)

    def query() -> Events:
        with state.db.read() as session:
            return watch.events_since(session, since, port_id, host)

    return await long_poll(
        state, query, lambda answer: answer.revision, lambda answer: bool(answer.events), wait
    )
