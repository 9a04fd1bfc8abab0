"""Test harness of the service: a real service in a thread of the test process (the embedded
runner), ``vifbind serve`` processes and private PostgreSQL clusters (``testbed``, shared with
the benchmarks), tokens per role."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from testbed.postgres import PostgresCluster, missing_prerequisite, postgres_bindir, private_cluster
from testbed.serve import VIFBIND, ServeProcess, start_serve
from vifbind.service.embedded import EmbeddedService, embedded_service, free_port

__all__ = [
    "VIFBIND",
    "PostgresCluster",
    "RunningService",
    "ServeProcess",
    "free_port",
    "missing_prerequisite",
    "postgres_bindir",
    "postgres_cluster",
    "requests_answered",
    "serve_in_thread",
    "start_serve",
]

RunningService = EmbeddedService
"""A service running in this process (see ``vifbind.service.embedded``)."""
serve_in_thread = embedded_service


@contextmanager
def postgres_cluster() -> Iterator[PostgresCluster]:
    """A private cluster tuned for tests (no fsync, room for many connections)."""
    with private_cluster({"fsync": "off", "max_connections": "300"}) as cluster:
        yield cluster


def requests_answered(service: RunningService, method: str, route: str) -> int:
    """How many ``method route`` requests the service answered with 200, by its own metrics."""
    text = httpx.get(
        f"{service.url}/metrics", headers={"Authorization": f"Bearer {service.admin_token}"}
    ).text
    pattern = (
        rf'^vifbind_http_request_duration_seconds_count\{{method="{method}",'
        rf'route="{re.escape(route)}",status="200"\}} (\S+)$'
    )
    found = re.search(pattern, text, re.MULTILINE)
    return int(float(found.group(1))) if found else 0
