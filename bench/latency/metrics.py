"""Time the service spent answering each route so far, from its own Prometheus metrics."""

from __future__ import annotations

import re

import httpx

from bench.common.compute import Compute

_SUM = re.compile(
    r'^vifbind_http_request_duration_seconds_(sum|count)\{method="([^"]+)",route="([^"]+)",'
    r'status="2\d\d"\} (\S+)$',
    re.MULTILINE,
)


def route_seconds(compute: Compute) -> dict[tuple[str, str], tuple[float, int]]:
    """Per (method, route): seconds spent answering it successfully and how many answers."""
    text = httpx.get(
        f"{compute.service.url}/metrics",
        headers={"Authorization": f"Bearer {compute.admin_token()}"},
        timeout=30,
    ).text
    sums: dict[tuple[str, str], float] = {}
    counts: dict[tuple[str, str], int] = {}
    for kind, method, route, value in _SUM.findall(text):
        key = (method, route)
        if kind == "sum":
            sums[key] = sums.get(key, 0.0) + float(value)
        else:
            counts[key] = counts.get(key, 0) + int(float(value))
    return {key: (sums.get(key, 0.0), counts.get(key, 0)) for key in counts}
