"""What every router needs from a request: the service state, the caller, If-Match.

They are coroutines: FastAPI runs a plain-function dependency in the thread pool, a hop per
dependency per request that costs more than the dependency itself. Only a token missing from
the cache is looked up in a thread."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.concurrency import run_in_threadpool

from vifbind.errors import InvalidInput, Unauthorized
from vifbind.service import auth
from vifbind.service.auth import Principal
from vifbind.service.state import ServiceState

# Token lookups are cached briefly: a watch loop should not cost a query per request.
TOKEN_CACHE_SECONDS = 5.0
_token_cache: dict[str, tuple[float, Principal]] = {}


async def service(request: Request) -> ServiceState:
    """The state of this service process."""
    return state_of(request)


def state_of(request: Request) -> ServiceState:
    """The state of the service process serving ``request`` (for the busiest endpoints, which
    take it from their request rather than from one more dependency to resolve)."""
    state: ServiceState = request.app.state.vifbind
    return state


State = Annotated[ServiceState, Depends(service)]


async def principal(request: Request) -> Principal:
    """The caller, from ``Authorization: Bearer <token>``; 401 without a known token.

    The header is read from the request rather than declared (it is not in the API description
    anyway): FastAPI resolves each declared parameter and sub-dependency on every request, and
    this dependency runs on every request but ``/healthz``."""
    state = state_of(request)
    authorization = request.headers.get("authorization")
    if authorization is None:
        raise Unauthorized("missing Authorization: Bearer <token> header")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Authorization header must be 'Bearer <token>'")
    key = auth.digest(token.strip())
    cached = _token_cache.get(key)
    now = time.monotonic()
    if cached is not None and now - cached[0] < TOKEN_CACHE_SECONDS:
        return cached[1]
    found = await run_in_threadpool(_lookup, state, token.strip())
    if found is None:
        _token_cache.pop(key, None)
        raise Unauthorized("unknown token")
    _token_cache[key] = (now, found)
    return found


Caller = Annotated[Principal, Depends(principal)]


def _lookup(state: ServiceState, token: str) -> Principal | None:
    with state.db.read() as session:
        return auth.lookup(session, token)


async def if_match(
    value: Annotated[
        str | None,
        Header(
            alias="If-Match",
            description="Revision the client last saw; a stale one answers 409.",
        ),
    ] = None,
) -> int | None:
    """The revision in ``If-Match`` (a number, quoted or not), if given."""
    if value is None:
        return None
    text = value.strip().removeprefix("W/").strip('"')
    if not text.isdigit():
        raise InvalidInput(f"If-Match: {value!r} is not a revision number", field="If-Match")
    return int(text)


IfMatch = Annotated[int | None, Depends(if_match)]


def forget_tokens() -> None:
    """Drop cached token lookups (after a token is deleted)."""
    _token_cache.clear()
