"""Authorization: every endpoint for every role (an agent for its own host and for another one),
no token and an unknown token — each answer checked against a table written out here."""

from __future__ import annotations

import re
import stat
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from vifbind.client import Client
from vifbind.service.app import create_app
from vifbind.service.storage.tables import TokenRow

from builders import host, vxlan
from harness import RunningService

OWN, OTHER = "cmp-1", "cmp-2"
CALLERS = ("admin", "compute", "agent-own", "agent-other", "reader", "no-token", "bad-token")
EVERYONE = frozenset({"admin", "compute", "agent-own", "agent-other", "reader"})


@dataclass
class Fixture:
    """Objects the requests refer to; destructive requests make fresh ones each time."""

    api: Client
    network_id: str
    port_id: str

    def fresh_network(self) -> str:
        return self.api.create_network([vxlan(9)]).id

    def fresh_port(self) -> str:
        return self.api.create_port(self.network_id).id

    def fresh_binding(self) -> str:
        port_id = self.fresh_port()
        self.api.bind(port_id, OWN)
        return port_id

    def fresh_token(self) -> str:
        return self.api.create_token("reader").id


@dataclass
class Case:
    method: str
    route: str
    allowed: frozenset[str]
    make: Callable[[Fixture], tuple[str, Any]]
    """Returns the concrete path and the JSON body (or None)."""


def case(
    method: str, route: str, allowed: set[str], make: Callable[[Fixture], tuple[str, Any]]
) -> Case:
    return Case(method, route, frozenset(allowed), make)


def report(name: str) -> dict[str, Any]:
    return host(name).model_dump(mode="json")


CASES = [
    case("POST", "/v1/networks", {"admin"}, lambda f: ("/v1/networks", {"segments": [vxlan()]})),
    case("GET", "/v1/networks", {"admin", "reader"}, lambda f: ("/v1/networks", None)),
    case(
        "GET",
        "/v1/networks/{network_id}",
        {"admin", "reader"},
        lambda f: (f"/v1/networks/{f.network_id}", None),
    ),
    case(
        "PATCH",
        "/v1/networks/{network_id}",
        {"admin"},
        lambda f: (f"/v1/networks/{f.network_id}", {"name": "x"}),
    ),
    case(
        "DELETE",
        "/v1/networks/{network_id}",
        {"admin"},
        lambda f: (f"/v1/networks/{f.fresh_network()}", None),
    ),
    case("POST", "/v1/ports", {"admin"}, lambda f: ("/v1/ports", {"network_id": f.network_id})),
    case("GET", "/v1/ports", {"admin", "compute", "reader"}, lambda f: ("/v1/ports", None)),
    case(
        "GET",
        "/v1/ports/{port_id}",
        {"admin", "compute", "reader"},
        lambda f: (f"/v1/ports/{f.port_id}", None),
    ),
    case(
        "PATCH",
        "/v1/ports/{port_id}",
        {"admin"},
        lambda f: (f"/v1/ports/{f.port_id}", {"device_id": "vm-x"}),
    ),
    case(
        "DELETE", "/v1/ports/{port_id}", {"admin"}, lambda f: (f"/v1/ports/{f.fresh_port()}", None)
    ),
    case(
        "PUT",
        "/v1/hosts/{host}",
        {"admin", "agent-own"},
        lambda f: (f"/v1/hosts/{OWN}", report(OWN)),
    ),
    case(
        "GET",
        "/v1/hosts",
        {"admin", "reader", "agent-own", "agent-other"},
        lambda f: ("/v1/hosts", None),
    ),
    case(
        "GET",
        "/v1/hosts/{host}",
        {"admin", "reader", "agent-own"},
        lambda f: (f"/v1/hosts/{OWN}", None),
    ),
    case(
        "GET",
        "/v1/hosts/{host}/bindings",
        {"admin", "reader", "agent-own"},
        lambda f: (f"/v1/hosts/{OWN}/bindings", None),
    ),
    case("GET", "/v1/bindings", EVERYONE, lambda f: ("/v1/bindings", None)),
    case(
        "POST",
        "/v1/ports/{port_id}/bindings",
        {"admin", "compute"},
        lambda f: (f"/v1/ports/{f.port_id}/bindings", {"host": OWN}),
    ),
    case(
        "GET",
        "/v1/ports/{port_id}/bindings",
        EVERYONE,
        lambda f: (f"/v1/ports/{f.port_id}/bindings", None),
    ),
    case(
        "GET",
        "/v1/ports/{port_id}/bindings/{host}",
        {"admin", "compute", "reader", "agent-own"},
        lambda f: (f"/v1/ports/{f.port_id}/bindings/{OWN}", None),
    ),
    case(
        "DELETE",
        "/v1/ports/{port_id}/bindings/{host}",
        {"admin", "compute"},
        lambda f: (f"/v1/ports/{f.fresh_binding()}/bindings/{OWN}", None),
    ),
    case(
        "POST",
        "/v1/ports/{port_id}/bindings/{host}/activate",
        {"admin", "compute"},
        lambda f: (f"/v1/ports/{f.port_id}/bindings/{OWN}/activate", None),
    ),
    case(
        "PUT",
        "/v1/ports/{port_id}/bindings/{host}/plugged",
        {"admin", "agent-own"},
        lambda f: (
            f"/v1/ports/{f.port_id}/bindings/{OWN}/plugged",
            {"plugged": True, "revision": 10**6},
        ),
    ),
    case(
        "PUT",
        "/v1/hosts/{host}/plugged",
        {"admin", "agent-own"},
        lambda f: (
            f"/v1/hosts/{OWN}/plugged",
            {"reports": [{"port_id": f.port_id, "plugged": True, "revision": 10**6}]},
        ),
    ),
    case(
        "POST",
        "/v1/explain",
        {"admin", "compute", "reader"},
        lambda f: ("/v1/explain", {"port_id": f.port_id, "host": OWN}),
    ),
    case("GET", "/v1/events", {"admin", "compute", "reader"}, lambda f: ("/v1/events", None)),
    case("GET", "/v1/schema", EVERYONE, lambda f: ("/v1/schema", None)),
    case("GET", "/openapi.json", EVERYONE, lambda f: ("/openapi.json", None)),
    case("GET", "/metrics", {"admin", "reader"}, lambda f: ("/metrics", None)),
    case("POST", "/v1/tokens", {"admin"}, lambda f: ("/v1/tokens", {"role": "reader"})),
    case("GET", "/v1/tokens", {"admin"}, lambda f: ("/v1/tokens", None)),
    case(
        "DELETE",
        "/v1/tokens/{token_id}",
        {"admin"},
        lambda f: (f"/v1/tokens/{f.fresh_token()}", None),
    ),
    case("GET", "/healthz", set(CALLERS), lambda f: ("/healthz", None)),
]


def expected(c: Case, caller: str) -> set[int]:
    if caller in c.allowed:
        return {200, 201, 204}
    if caller in ("no-token", "bad-token"):
        return {401}
    return {403}


def test_every_route_is_in_the_matrix(service: RunningService) -> None:
    routes = {
        (method, route.path)
        for route in service_app_routes(service)
        for method in getattr(route, "methods", set()) - {"HEAD"}
    }
    covered = {(c.method, c.route) for c in CASES}
    assert routes == covered, f"missing: {routes - covered}; stale: {covered - routes}"


def service_app_routes(service: RunningService) -> list[Any]:
    """Every endpoint of the app, looking inside included routers."""

    def walk(routes: list[Any]) -> list[Any]:
        found = []
        for route in routes:
            inner = getattr(route, "original_router", None)
            found += walk(inner.routes) if inner is not None else [route]
        return found

    return walk(create_app(service.state).routes)


def test_authorization_matrix(service: RunningService) -> None:
    api = service.client()
    api.report_host(host(OWN))
    api.report_host(host(OTHER))
    network = api.create_network([vxlan()])
    port = api.create_port(network.id)
    api.bind(port.id, OWN)
    fixture = Fixture(api=api, network_id=network.id, port_id=port.id)
    tokens = {
        "admin": service.admin_token,
        "compute": service.token("compute"),
        "agent-own": service.token("agent", OWN),
        "agent-other": service.token("agent", OTHER),
        "reader": service.token("reader"),
        "bad-token": "vbt_" + uuid.uuid4().hex,
    }
    mismatches = []
    for c in CASES:
        for caller in CALLERS:
            path, body = c.make(fixture)
            headers = {"Authorization": f"Bearer {tokens[caller]}"} if caller in tokens else {}
            response = httpx.request(
                c.method, service.url + path, json=body, headers=headers, timeout=30
            )
            if response.status_code not in expected(c, caller):
                got = f"{response.status_code} {response.text[:160]}"
                mismatches.append(f"{c.method} {c.route} as {caller}: {got}")
    assert not mismatches, "\n".join(mismatches)


def test_agent_sees_only_its_own_host(service: RunningService) -> None:
    api = service.client()
    api.report_host(host(OWN))
    api.report_host(host(OTHER))
    network = api.create_network([vxlan()])
    port = api.create_port(network.id)
    api.bind(port.id, OWN)
    api.bind(port.id, OTHER)
    agent = service.client(service.token("agent", OWN))
    assert [h.host for h in agent.list_hosts()] == [OWN]
    assert [b.host for b in agent.list_bindings(port.id)] == [OWN]


def test_tokens_are_stored_hashed_and_the_admin_file_is_private(service: RunningService) -> None:
    token_file = service.state.settings.state_dir / "admin.token"
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    created = service.client().create_token("agent", host=OWN, name="agent of cmp-1")
    assert created.token is not None and created.token.startswith("vbt_")
    with service.state.db.read() as session:
        stored = [row.digest for row in session.query(TokenRow).all()]
    assert created.token not in stored
    assert all(re.fullmatch(r"[0-9a-f]{64}", d) for d in stored)
    listed = httpx.get(
        f"{service.url}/v1/tokens", headers={"Authorization": f"Bearer {service.admin_token}"}
    ).text
    assert created.token not in listed and service.admin_token not in listed


def test_a_revoked_token_stops_working(service: RunningService) -> None:
    api = service.client()
    created = api.create_token("reader")
    assert created.token is not None
    reader = service.client(created.token)
    assert reader.list_networks() == []
    httpx.delete(
        f"{service.url}/v1/tokens/{created.id}",
        headers={"Authorization": f"Bearer {service.admin_token}"},
    ).raise_for_status()
    response = httpx.get(
        f"{service.url}/v1/networks", headers={"Authorization": f"Bearer {created.token}"}
    )
    assert response.status_code == 401
