"""A typed Python client of the network service.

Answers come back as contract models; every failure is one of vifbind's typed errors
(``NotFound``, ``Conflict``, ``Unauthorized``, ``Forbidden``, ``InvalidInput``,
``ServiceUnavailable``), and a binding that could not be made raises ``BindingFailed`` with its
decisions when asked to (``bind(..., check=True)``).

Given several service URLs (replicas sharing one database), the client fails over: a request
that cannot reach one replica goes to the next, and the one that answered is used from then on.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

from pydantic import BaseModel, TypeAdapter

from vifbind.contract import Binding, BindingProfile, HostReport, Segment
from vifbind.contract.api import (
    Events,
    HostBindings,
    HostView,
    NetworkView,
    PluggedOutcome,
    PluggedOutcomes,
    PortPlugged,
    PortView,
    TokenView,
)
from vifbind.errors import (
    BindingFailed,
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    ServiceUnavailable,
    Unauthorized,
    VifbindError,
    WaitTimeout,
)
from vifbind.streamed import StreamedObject
from vifbind.transport import ConnectError, Response, Transport, TransportError

M = TypeVar("M", bound=BaseModel)
K = TypeVar("K")

CHUNK = 1 << 16
"""Bytes read at a time from an answer that is parsed as it arrives."""

ERRORS: dict[int, type[VifbindError]] = {
    400: InvalidInput,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    413: InvalidInput,
    422: InvalidInput,
}
"""Exception per HTTP status; any other 4xx is ``InvalidInput``, a 5xx ``ServiceUnavailable``."""

REPEATABLE = frozenset({"GET", "HEAD", "OPTIONS", "PUT"})
"""Methods sent again to the next replica even when the connection broke after the request
went out: repeating them changes nothing. A POST or DELETE is sent to the next replica only
when the previous one could not be connected to at all, so it is never applied twice."""


class Client:
    """One connection pool to the service — one URL, or several replicas' URLs tried in turn;
    safe to share between threads."""

    def __init__(
        self,
        base_url: str | Sequence[str],
        token: str,
        *,
        timeout: float = 30.0,
    ) -> None:
        urls = [base_url] if isinstance(base_url, str) else list(base_url)
        if not urls:
            raise InvalidInput("base_url: no service URL given", field="base_url")
        self.base_urls = tuple(url.rstrip("/") for url in urls)
        self._current = 0
        self._timeout = timeout
        self._http = Transport({"Authorization": f"Bearer {token}"})

    @property
    def base_url(self) -> str:
        """The service URL requests go to first: the one that answered last."""
        return self.base_urls[self._current]

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- networks -------------------------------------------------------------------------

    def create_network(
        self,
        segments: list[Segment] | list[dict[str, Any]],
        *,
        name: str = "",
        mtu: int = 1500,
        id: str | None = None,
    ) -> NetworkView:
        """Create a network."""
        body = {"name": name, "mtu": mtu, "segments": _plain(segments), "id": id}
        return self._call(NetworkView, "POST", "/v1/networks", json=_no_none(body))

    def list_networks(self) -> list[NetworkView]:
        """Every network."""
        return self._call_list(NetworkView, "GET", "/v1/networks")

    def get_network(self, network_id: str) -> NetworkView:
        """One network."""
        return self._call(NetworkView, "GET", f"/v1/networks/{network_id}")

    def update_network(
        self,
        network_id: str,
        *,
        name: str | None = None,
        mtu: int | None = None,
        revision: int | None = None,
    ) -> NetworkView:
        """Rename a network or change its MTU."""
        body = _no_none({"name": name, "mtu": mtu})
        return self._call(
            NetworkView, "PATCH", f"/v1/networks/{network_id}", json=body, revision=revision
        )

    def delete_network(self, network_id: str, *, revision: int | None = None) -> None:
        """Delete a network without ports."""
        self._request("DELETE", f"/v1/networks/{network_id}", revision=revision)

    # -- ports ----------------------------------------------------------------------------

    def create_port(self, network_id: str, **fields: Any) -> PortView:
        """Create a port (fields as in ``PortCreate``: mac, fixed_ips, device_id, ...)."""
        body = {"network_id": network_id, **_plain(fields)}
        return self._call(PortView, "POST", "/v1/ports", json=body)

    def list_ports(
        self, *, network_id: str | None = None, device_id: str | None = None
    ) -> list[PortView]:
        """Ports, optionally of one network and/or device."""
        params = _no_none({"network_id": network_id, "device_id": device_id})
        return self._call_list(PortView, "GET", "/v1/ports", params=params)

    def get_port(self, port_id: str) -> PortView:
        """One port."""
        return self._call(PortView, "GET", f"/v1/ports/{port_id}")

    def update_port(self, port_id: str, *, revision: int | None = None, **changes: Any) -> PortView:
        """Change a port; its bindings are decided again."""
        return self._call(
            PortView, "PATCH", f"/v1/ports/{port_id}", json=_plain(changes), revision=revision
        )

    def delete_port(self, port_id: str, *, revision: int | None = None) -> None:
        """Delete a port and its bindings."""
        self._request("DELETE", f"/v1/ports/{port_id}", revision=revision)

    # -- hosts ----------------------------------------------------------------------------

    def report_host(self, report: HostReport) -> HostView:
        """Store a host's report (agents: their own host only)."""
        body = report.model_dump(mode="json")
        return self._call(HostView, "PUT", f"/v1/hosts/{report.host}", json=body)

    def list_hosts(self) -> list[HostView]:
        """Every host that reported."""
        return self._call_list(HostView, "GET", "/v1/hosts")

    def get_host(self, host: str) -> HostView:
        """A host's report and its age."""
        return self._call(HostView, "GET", f"/v1/hosts/{host}")

    def watch_host(self, host: str, *, since: int = 0, wait: float = 0) -> HostBindings:
        """The host's bindings changed after ``since``, waiting up to ``wait`` s for one."""
        answer, bindings = self.watch_host_each(host, since=since, wait=wait, keep=lambda b: b)
        return answer.model_copy(update={"bindings": bindings})

    def watch_host_each(
        self, host: str, *, keep: Callable[[Binding], K], since: int = 0, wait: float = 0
    ) -> tuple[HostBindings, list[K]]:
        """``watch_host`` for a host's thousands of bindings: each one is validated and given
        to ``keep`` as it is read, so that they never all exist as models (nor their text in
        full) at once. Returns the answer without its bindings, and what ``keep`` made of them,
        in order."""
        kept: list[K] = []

        def each(item: Any) -> None:
            kept.append(keep(Binding.model_validate(item)))

        with self._streamed(
            "GET",
            f"/v1/hosts/{host}/bindings",
            params={"since": since, "wait": wait},
            timeout=wait + self._timeout,
        ) as chunks:
            members = StreamedObject(chunks).members(
                lambda key: each if key == "bindings" else None
            )
        return HostBindings.model_validate(members | {"bindings": []}), kept

    # -- bindings -------------------------------------------------------------------------

    def bind(
        self,
        port_id: str,
        host: str,
        *,
        host_report: HostReport | None = None,
        profile: BindingProfile | Mapping[str, Any] | None = None,
        revision: int | None = None,
        check: bool = False,
    ) -> Binding:
        """Bind a port to a host. With ``check``, a failed binding raises ``BindingFailed``."""
        body = _no_none(
            {
                "host": host,
                "host_report": _plain(host_report) if host_report else None,
                "profile": _plain(profile) if profile else None,
            }
        )
        binding = self._call(
            Binding, "POST", f"/v1/ports/{port_id}/bindings", json=body, revision=revision
        )
        if check and binding.status != "bound":
            reasons = "; ".join(f"{d.backend}: {d.reason}" for d in binding.decisions)
            raise BindingFailed(
                f"binding port {port_id} to {host} failed: {reasons}", binding.decisions
            )
        return binding

    def get_binding(self, port_id: str, host: str) -> Binding:
        """The port's binding on a host."""
        return self._call(Binding, "GET", f"/v1/ports/{port_id}/bindings/{host}")

    def all_bindings(self, *, host: str | None = None, status: str | None = None) -> list[Binding]:
        """Every binding, optionally of one host and/or with one status."""
        params = _no_none({"host": host, "status": status})
        return self._call_list(Binding, "GET", "/v1/bindings", params=params)

    def list_bindings(self, port_id: str) -> list[Binding]:
        """Every binding of a port, the active one first."""
        return self._call_list(Binding, "GET", f"/v1/ports/{port_id}/bindings")

    def unbind(self, port_id: str, host: str, *, revision: int | None = None) -> Binding:
        """Remove the port's binding on a host."""
        return self._call(
            Binding, "DELETE", f"/v1/ports/{port_id}/bindings/{host}", revision=revision
        )

    def activate(self, port_id: str, host: str, *, revision: int | None = None) -> Binding:
        """Make the binding on ``host`` the port's active one."""
        return self._call(
            Binding, "POST", f"/v1/ports/{port_id}/bindings/{host}/activate", revision=revision
        )

    def report_plugged(
        self,
        port_id: str,
        host: str,
        *,
        plugged: bool,
        revision: int,
        error: str | None = None,
        retrying: bool = False,
    ) -> Binding:
        """Say whether the host plugged the binding's decision of ``revision`` (agents); with
        ``retrying``, the error is one the host will try to get past by itself."""
        body = {"plugged": plugged, "revision": revision, "error": error, "retrying": retrying}
        return self._call(Binding, "PUT", f"/v1/ports/{port_id}/bindings/{host}/plugged", json=body)

    def report_plugged_many(
        self, host: str, reports: Sequence[PortPlugged]
    ) -> list[PluggedOutcome]:
        """Say for several bindings at once whether the host plugged them (agents): one request
        and one transaction; each outcome says whether its report was recorded."""
        body = {"reports": [r.model_dump(mode="json") for r in reports]}
        answer = self._call(PluggedOutcomes, "PUT", f"/v1/hosts/{host}/plugged", json=body)
        return answer.outcomes

    def explain(
        self,
        port_id: str,
        host: str,
        *,
        host_report: HostReport | None = None,
        profile: BindingProfile | Mapping[str, Any] | None = None,
    ) -> Binding:
        """What binding the port to the host would decide now; nothing stored."""
        body = _no_none(
            {
                "port_id": port_id,
                "host": host,
                "host_report": _plain(host_report) if host_report else None,
                "profile": _plain(profile) if profile else None,
            }
        )
        return self._call(Binding, "POST", "/v1/explain", json=body)

    def events(
        self,
        *,
        since: int = 0,
        wait: float = 0,
        port_id: str | None = None,
        host: str | None = None,
    ) -> Events:
        """Binding events after ``since``, waiting up to ``wait`` s for one."""
        params = _no_none({"since": since, "wait": wait, "port_id": port_id, "host": host})
        return self._call(Events, "GET", "/v1/events", params=params, timeout=wait + self._timeout)

    def wait_plugged(self, port_id: str, host: str, timeout: float) -> Binding:
        """Block until the host reports the binding plugged; ``WaitTimeout`` after ``timeout``
        seconds, ``BindingFailed`` if the binding fails or the host refuses it (an error the
        host is retrying is waited out)."""
        deadline = time.monotonic() + timeout
        since = 0
        binding = self.get_binding(port_id, host)
        while True:
            since = max(since, binding.revision)
            if binding.plugged:
                return binding
            if binding.status == "failed":
                raise BindingFailed(f"the binding of {port_id} on {host} failed", binding.decisions)
            if binding.plug_error and not binding.plug_retrying:
                raise BindingFailed(
                    f"host {host} cannot plug port {port_id}: {binding.plug_error}",
                    binding.decisions,
                )
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise WaitTimeout(f"port {port_id} not plugged on {host} after {timeout:g} s")
            answer = self.events(since=since, wait=remaining, port_id=port_id, host=host)
            since = max(since, answer.revision)
            # The newest event carries the binding as it is now: no second request for it
            # (unless it was deleted, which reading it again reports as an error).
            last = answer.events[-1] if answer.events else None
            if last is None or last.kind == "deleted":
                binding = self.get_binding(port_id, host)
            else:
                binding = last.binding

    # -- tokens and meta ------------------------------------------------------------------

    def create_token(self, role: str, *, host: str | None = None, name: str = "") -> TokenView:
        """A new token (admin); its secret is in the answer only."""
        body = _no_none({"role": role, "host": host, "name": name})
        return self._call(TokenView, "POST", "/v1/tokens", json=body)

    def schema(self) -> dict[str, Any]:
        """The contract's JSON Schema as the service publishes it."""
        data: dict[str, Any] = self._request("GET", "/v1/schema").json()
        return data

    def openapi(self) -> dict[str, Any]:
        """The service's OpenAPI description."""
        data: dict[str, Any] = self._request("GET", "/openapi.json").json()
        return data

    # -- plumbing -------------------------------------------------------------------------

    # Answers are validated from their bytes: no intermediate dicts, which for a host's
    # thousands of bindings weigh more than the models made of them.
    def _call(self, model: type[M], method: str, path: str, **options: Any) -> M:
        return model.model_validate_json(self._request(method, path, **options).content)

    def _call_list(self, model: type[M], method: str, path: str, **options: Any) -> list[M]:
        adapter = TypeAdapter(list[model])  # type: ignore[valid-type]
        result: list[M] = adapter.validate_json(self._request(method, path, **options).content)
        return result

    @contextmanager
    def _streamed(self, method: str, path: str, **options: Any) -> Iterator[Iterator[bytes]]:
        """The answer's body as it arrives, in chunks; a body that breaks off is the service
        being unavailable."""
        response = self._request(method, path, stream=True, **options)
        try:
            yield _chunks_of(response)
        finally:
            response.close()

    def _request(
        self,
        method: str,
        path: str,
        *,
        revision: int | None = None,
        timeout: float | None = None,
        stream: bool = False,
        **options: Any,
    ) -> Response:
        headers = {"If-Match": str(revision)} if revision is not None else {}
        first = self._current
        failures: list[str] = []
        for step in range(len(self.base_urls)):
            index = (first + step) % len(self.base_urls)
            url = self.base_urls[index]
            try:
                response = self._http.request(
                    method,
                    url + path,
                    headers=headers,
                    timeout=timeout if timeout is not None else self._timeout,
                    stream=stream,
                    **options,
                )
                if response.status_code >= 400:
                    _ = response.content
            except TransportError as exc:
                failures.append(f"{url}: {exc}")
                if not _may_repeat(method, exc):
                    break
                continue
            self._current = index
            if response.status_code < 400:
                return response
            raise _error_of(response)
        raise ServiceUnavailable(f"cannot reach the service at {'; '.join(failures)}")


def _chunks_of(response: Response) -> Iterator[bytes]:
    try:
        yield from response.iter_bytes(CHUNK)
    except TransportError as exc:
        raise ServiceUnavailable(
            f"the service's answer from {response.url} broke off: {exc}"
        ) from None


def _may_repeat(method: str, error: TransportError) -> bool:
    """Whether a request that failed this way may go to the next replica."""
    return isinstance(error, ConnectError) or method.upper() in REPEATABLE


def _error_of(response: Response) -> VifbindError:
    try:
        detail = response.json()["error"]
        message, field = str(detail["message"]), detail.get("field")
    except (ValueError, KeyError, TypeError):
        message, field = response.text[:500] or response.reason_phrase, None
    if response.status_code >= 500:
        return ServiceUnavailable(f"service error {response.status_code}: {message}")
    error = ERRORS.get(response.status_code, InvalidInput)
    return error(message, field=field)


def _plain(value: Any) -> Any:
    """JSON-ready form of models (and of lists/dicts of them)."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _no_none(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v is not None}
