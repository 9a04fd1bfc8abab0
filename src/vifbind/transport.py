"""The client's HTTP/1.1 transport: the standard library's ``http.client``, with keep-alive
connections reused between requests.

Why not httpx (which the client used before): the host agent is a long-running daemon on every
hypervisor, held to a memory budget, and imports the client. httpx with its dependencies
(httpcore, h11, anyio, and through its command-line entry point rich, pygments and click) was
6 MiB of the agent's resident memory before its first request; ``http.client`` is already
loaded by the standard library modules vifbind uses. The client needs little of HTTP: one
request at a time per connection, JSON bodies, answers read whole or as they arrive.
"""

from __future__ import annotations

import http.client
import json
import select
import ssl
import threading
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urlencode, urlsplit

Connection = http.client.HTTPConnection


class TransportError(Exception):
    """The request failed on the way (the service may or may not have received it)."""


class ConnectError(TransportError):
    """No connection to the service could be made: the request was not sent."""


class Response:
    """An answer: its status, and its body (read whole, or as it arrives when streamed)."""

    def __init__(
        self, url: str, answer: http.client.HTTPResponse, release: _Release | None
    ) -> None:
        self.url = url
        self.status_code = answer.status
        self.reason_phrase = answer.reason
        self._answer = answer
        self._release = release
        self._content: bytes | None = None

    @property
    def content(self) -> bytes:
        """The whole body."""
        if self._content is None:
            self._content = self.read()
        return self._content

    @property
    def text(self) -> str:
        """The body as text."""
        return self.content.decode(errors="replace")

    def json(self) -> Any:
        """The body as JSON."""
        return json.loads(self.content)

    def read(self) -> bytes:
        """Read the rest of the body."""
        return b"".join(self.iter_bytes())

    def iter_bytes(self, size: int = 1 << 16) -> Iterator[bytes]:
        """The rest of the body in chunks of up to ``size`` bytes, as they arrive."""
        try:
            while chunk := self._answer.read(size):
                yield chunk
        except (OSError, http.client.HTTPException) as exc:
            self.close()
            raise TransportError(_reason(exc)) from None
        self.close()

    def close(self) -> None:
        """Give the connection back for the next request (or close it, when the body was not
        read to its end or the service closes it)."""
        release, self._release = self._release, None
        if release is not None:
            release(self._answer.isclosed() and not self._answer.will_close)


class _Release:
    """Gives a connection back to its pool once its answer is done with."""

    def __init__(self, pool: Transport, key: tuple[str, str], connection: Connection) -> None:
        self._pool, self._key, self._connection = pool, key, connection

    def __call__(self, reusable: bool) -> None:
        if reusable:
            self._pool._idle(self._key, self._connection)
        else:
            self._connection.close()


class Transport:
    """Keep-alive connections to one or more services; safe to share between threads (each
    request has a connection to itself)."""

    def __init__(self, headers: Mapping[str, str]) -> None:
        self._headers = dict(headers)
        self._pools: dict[tuple[str, str], list[Connection]] = {}
        self._lock = threading.Lock()
        self._tls: ssl.SSLContext | None = None

    def close(self) -> None:
        """Close every idle connection."""
        with self._lock:
            pools, self._pools = self._pools, {}
        for connections in pools.values():
            for connection in connections:
                connection.close()

    def request(
        self,
        method: str,
        url: str,
        *,
        timeout: float,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        stream: bool = False,
    ) -> Response:
        """Send one request; the answer's body is read whole unless ``stream``. Raises
        ``ConnectError`` when the service cannot be connected to, ``TransportError`` when the
        exchange fails after that."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConnectError(f"{url}: not an http:// or https:// URL")
        target = parts.path or "/"
        query = "&".join(q for q in (parts.query, urlencode(params or {})) if q)
        if query:
            target += "?" + query
        sent = self._headers | dict(headers or {})
        body = None
        if json is not None:
            body = _json_body(json)
            sent["Content-Type"] = "application/json"
        key = (parts.scheme, parts.netloc)
        connection = self._connection(key, timeout)
        try:
            connection.request(method, target, body, sent)
            answer = connection.getresponse()
        except (OSError, http.client.HTTPException) as exc:
            connection.close()
            raise TransportError(_reason(exc)) from None
        response = Response(url, answer, _Release(self, key, connection))
        if not stream:
            _ = response.content
        return response

    def _connection(self, key: tuple[str, str], timeout: float) -> Connection:
        with self._lock:
            idle = self._pools.get(key, [])
            while idle:
                connection = idle.pop()
                if connection.sock is not None and not _readable(connection):
                    connection.sock.settimeout(timeout)
                    return connection
                connection.close()
        scheme, netloc = key
        if scheme == "https":
            if self._tls is None:
                self._tls = ssl.create_default_context()
            connection = http.client.HTTPSConnection(netloc, timeout=timeout, context=self._tls)
        else:
            connection = http.client.HTTPConnection(netloc, timeout=timeout)
        try:
            connection.connect()
        except (OSError, http.client.HTTPException) as exc:
            connection.close()
            raise ConnectError(_reason(exc)) from None
        return connection

    def _idle(self, key: tuple[str, str], connection: Connection) -> None:
        with self._lock:
            self._pools.setdefault(key, []).append(connection)


def _readable(connection: Connection) -> bool:
    """Whether an idle connection has something to read: the service closed it (or sent what
    no request asked for) — either way it cannot carry the next request."""
    try:
        ready, _, _ = select.select([connection.sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(ready)


def _json_body(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), allow_nan=False).encode()


def _reason(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__
