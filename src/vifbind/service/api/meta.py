"""``/healthz`` (the only open endpoint), ``/metrics``, ``/v1/schema``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from vifbind.contract.api import Health
from vifbind.contract.schema import contract_schema
from vifbind.service.api.deps import Caller, State
from vifbind.service.auth import Action

router = APIRouter(tags=["meta"])


@router.get("/healthz")
def health(state: State) -> Health:
    """Answers when the service can read its database; needs no token."""
    return Health(status="ok", revision=state.db.current_revision(), database=state.db.dialect)


@router.get("/metrics", response_class=Response)
async def metrics(state: State, caller: Caller) -> Response:
    """Prometheus metrics of this process."""
    caller.allow(Action.READ_METRICS)
    body = await run_in_threadpool(generate_latest, state.metrics.registry)
    return Response(content=body, media_type=CONTENT_TYPE_LATEST)


@router.get("/v1/schema")
def schema(caller: Caller) -> dict[str, Any]:
    """The JSON Schema of the whole contract."""
    caller.allow(Action.READ_SCHEMA)
    return contract_schema()


@router.get("/openapi.json", include_in_schema=False)
def openapi(request: Request, caller: Caller) -> dict[str, Any]:
    """The OpenAPI description of this API."""
    caller.allow(Action.READ_SCHEMA)
    spec: dict[str, Any] = request.app.openapi()
    return spec
