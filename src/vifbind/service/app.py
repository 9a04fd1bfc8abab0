"""The FastAPI application: routers, error answers, request limits and metrics."""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio.to_thread
import uvicorn
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, OperationalError
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vifbind import __version__
from vifbind.backends import registry
from vifbind.contract.api import ErrorBody
from vifbind.contract.vifs import field_path
from vifbind.errors import InvalidInput, ServiceUnavailable, VifbindError, http_status
from vifbind.service.api import bindings, events, hosts, meta, networks, ports, tokens
from vifbind.service.bindings import Decider
from vifbind.service.group_commit import GroupCommit
from vifbind.service.http_protocol import HeadLimitedHttpTools
from vifbind.service.notifier import Notifier, PostgresListener
from vifbind.service.ovn import OvnNorthbound
from vifbind.service.ovn_sync import UpWatcher
from vifbind.service.settings import ServiceSettings
from vifbind.service.state import ServiceState
from vifbind.service.storage.database import Database

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024

ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": description}
    for status, description in (
        (401, "No token, or an unknown one"),
        (403, "The token's role does not allow this"),
        (404, "An id in the path does not exist"),
        (409, "A stale If-Match revision, or a conflict with the current state"),
        (413, "The body is too large"),
        (422, "Invalid input; the message and field name what is wrong"),
        (503, "The database or OVN northbound is unavailable; retry"),
    )
}
"""Every error answer has the same body, documented on every route."""


def enabled_backends(settings: ServiceSettings) -> list[str]:
    """The backends this service decides with: as configured, or every registered one whose
    prerequisites are met (``ovn`` needs a northbound connection)."""
    if settings.backends is not None:
        if "ovn" in settings.backends and settings.ovn_nb is None:
            raise InvalidInput("backends: ovn needs an OVN northbound connection (--ovn-nb)")
        return list(settings.backends)
    return [n for n in registry.default_names() if n != "ovn" or settings.ovn_nb is not None]


def open_database(settings: ServiceSettings) -> Database:
    """The configured database, migrated to the current schema (the state directory is created
    for the default SQLite database)."""
    if settings.db_url is None:
        settings.state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    db = Database(settings.database_url)
    try:
        db.upgrade()
    except OperationalError as exc:
        where = make_url(settings.database_url).render_as_string(hide_password=True)
        raise ServiceUnavailable(f"database {where}: {exc.orig}") from None
    return db


def build_state(settings: ServiceSettings) -> ServiceState:
    """Open (and migrate) the database and load the backends."""
    db = open_database(settings)
    nb = OvnNorthbound(settings.ovn_nb) if settings.ovn_nb is not None else None
    decider = Decider(
        backends=registry.load(enabled_backends(settings)),
        report_max_age=settings.report_max_age,
        network_signalled=frozenset({"ovn"}) if nb is not None else frozenset(),
    )
    return ServiceState(settings=settings, db=db, decider=decider, nb=nb)


def create_app(state: ServiceState) -> FastAPI:
    """The service's ASGI application around ``state``."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        limiter = anyio.to_thread.current_default_thread_limiter()
        limiter.total_tokens = state.settings.request_threads(state.db.dialect)
        notifier = Notifier(asyncio.get_running_loop(), state.db.current_revision())
        state.notifier = notifier
        if state.db.dialect == "postgresql":
            state.listener = PostgresListener(state.db.url, notifier)
            state.listener.start()
        if state.nb is not None:
            state.up_watcher = UpWatcher(state.nb, state.db, notifier.publish)
            await asyncio.to_thread(state.up_watcher.start)
        state.group = GroupCommit(state.db, asyncio.get_running_loop(), notifier.publish)
        state.group.start()
        _freeze_startup_objects()
        try:
            yield
        finally:
            state.group.stop()
            if state.up_watcher is not None:
                state.up_watcher.stop()
            if state.nb is not None:
                state.nb.close()
            if state.listener is not None:
                state.listener.stop()
            state.db.dispose()

    app = FastAPI(
        title="vifbind network service",
        version=__version__,
        description="Networks, ports, host reports and bindings: how each VIF is attached.",
        lifespan=lifespan,
        # Only /healthz is open: the API description is served by meta.openapi, with a token.
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    app.state.vifbind = state
    # FastAPI tries the routers in this order on every request: the busiest first (bind and
    # explain, then the agents' watch and reports), so that a decision is not matched against
    # every other route first (a tenth of a bind's framework work).
    for module in (bindings, hosts, ports, networks, events, meta, tokens):
        app.include_router(module.router, responses=ERROR_RESPONSES)
    _install_error_answers(app)
    app.add_middleware(_Timing, state=state)
    app.add_middleware(_BodyLimit)
    return app


def _freeze_startup_objects() -> None:
    """Exempt what exists once the service has started (modules, models, schemas, the
    engine) from the cyclic garbage collector: otherwise each full collection walks all of it,
    a 200-250 ms pause of every request every few thousand requests, about 50 µs of CPU a
    request on average."""
    gc.collect()
    gc.freeze()


def server_config(app: FastAPI, host: str, port: int) -> uvicorn.Config:
    """How uvicorn serves the app: on httptools with the request head bounded
    (``HeadLimitedHttpTools``)."""
    return uvicorn.Config(
        app, host=host, port=port, log_level="warning", lifespan="on", http=HeadLimitedHttpTools
    )


def _error(status: int, kind: str, message: str, field: str | None = None) -> JSONResponse:
    return JSONResponse(
        status_code=status, content={"error": {"type": kind, "message": message, "field": field}}
    )


def _install_error_answers(app: FastAPI) -> None:
    @app.exception_handler(VifbindError)
    async def _vifbind(_request: Request, exc: VifbindError) -> JSONResponse:
        return _error(http_status(exc), type(exc).__name__, str(exc), exc.field)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = []
        first_field = None
        for err in exc.errors():
            where = field_path(err.get("loc", ()))
            first_field = first_field or where
            message = str(err.get("msg", "invalid")).removeprefix("Value error, ")
            problems.append(f"{where}: {message}")
        return _error(422, "InvalidInput", "; ".join(problems), first_field)

    @app.exception_handler(HTTPException)
    async def _http(_request: Request, exc: HTTPException) -> JSONResponse:
        return _error(exc.status_code, "HTTPError", str(exc.detail))

    @app.exception_handler(IntegrityError)
    async def _integrity(_request: Request, exc: IntegrityError) -> JSONResponse:
        log.info("conflict from the database: %s", exc.orig)
        return _error(409, "Conflict", "the request conflicts with a concurrent change; retry")

    @app.exception_handler(OperationalError)
    async def _database_down(_request: Request, exc: OperationalError) -> JSONResponse:
        log.warning("database unavailable: %s", exc.orig)
        return _error(503, "ServiceUnavailable", "the database is unavailable; retry")

    @app.exception_handler(RecursionError)
    async def _too_deep(_request: Request, _exc: RecursionError) -> JSONResponse:
        return _error(400, "InvalidInput", "body: JSON nested too deeply")

    @app.exception_handler(Exception)
    async def _bug(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error")
        return _error(500, "InternalError", f"{type(exc).__name__}: {exc}")


class _BodyLimit:
    """Refuse request bodies over ``MAX_BODY_BYTES`` with 413, declared or streamed.

    The body is read here, before any route sees it: a limit enforced while a route reads would
    surface inside FastAPI's body parsing, which turns every error into a bare 400."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        too_large = _error(413, "InvalidInput", f"body: larger than {MAX_BODY_BYTES} bytes")
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY_BYTES):
            await too_large(scope, receive, send)
            return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break  # the client went away: the route sees that message
            body += message.get("body", b"")
            if len(body) > MAX_BODY_BYTES:
                await too_large(scope, receive, send)
                return
            if not message.get("more_body", False):
                message = {"type": "http.request", "body": bytes(body)}
                break
        pending: list[Message] = [message]

        async def replay() -> Message:
            return pending.pop() if pending else await receive()

        await self.app(scope, replay, send)


class _Timing:
    """Request latency by method, route template and status."""

    def __init__(self, app: ASGIApp, state: ServiceState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = [500]

        async def recording(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, recording)
        finally:
            route: Any = scope.get("route")
            path = getattr(route, "path", "unmatched")
            self.state.metrics.request_seconds.labels(
                scope["method"], path, str(status[0])
            ).observe(time.perf_counter() - started)
