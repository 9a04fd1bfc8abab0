"""The client's HTTP transport: connections are kept and reused, one the service closed while
idle is not used again, bodies are the same read whole or as they arrive, and a service that
cannot be reached is told apart from one that failed after the request went out."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from vifbind.transport import ConnectError, Transport, TransportError

BODY = json.dumps({"items": list(range(20000))}).encode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    peers: list[int]

    def do_GET(self) -> None:
        self.peers.append(self.client_address[1])
        if self.path.startswith("/hang-up"):
            self.close_connection = True
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)
        if self.path.startswith("/then-close"):
            # Closed without saying so, as a service's idle timeout would.
            self.close_connection = True

    def do_POST(self) -> None:
        self.peers.append(self.client_address[1])
        data = self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(201)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *_args: object) -> None:
        return


@pytest.fixture
def server() -> Iterator[tuple[str, list[int]]]:
    peers: list[int] = []
    handler = type("Recording", (Handler,), {"peers": peers})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", peers
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_a_connection_is_reused_and_bodies_arrive_whole(server: tuple[str, list[int]]) -> None:
    url, peers = server
    transport = Transport({"Authorization": "Bearer x"})
    try:
        first = transport.request("GET", f"{url}/a", timeout=5, params={"since": 3, "wait": 1.5})
        second = transport.request("POST", f"{url}/b", timeout=5, json={"k": [1, None]})
        streamed = transport.request("GET", f"{url}/c", timeout=5, stream=True)
        chunks = list(streamed.iter_bytes(1000))
    finally:
        transport.close()
    assert first.status_code == 200 and first.content == BODY and first.json()["items"][-1] == 19999
    assert second.status_code == 201 and json.loads(second.content) == {"k": [1, None]}
    assert b"".join(chunks) == BODY and max(map(len, chunks)) <= 1000
    assert len(set(peers)) == 1, "one connection for the three requests"


def test_a_connection_the_service_closed_is_not_used_again(server: tuple[str, list[int]]) -> None:
    url, peers = server
    transport = Transport({})
    try:
        assert transport.request("GET", f"{url}/then-close", timeout=5).content == BODY
        time.sleep(0.2)
        assert transport.request("GET", f"{url}/again", timeout=5).content == BODY
    finally:
        transport.close()
    assert len(set(peers)) == 2


def test_an_unreachable_service_and_a_broken_exchange_differ(
    server: tuple[str, list[int]],
) -> None:
    url, _ = server
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    transport = Transport({})
    try:
        with pytest.raises(ConnectError):
            transport.request("GET", f"http://127.0.0.1:{port}/", timeout=5)
        with pytest.raises(TransportError) as broken:
            transport.request("GET", f"{url}/hang-up", timeout=5)
        assert not isinstance(broken.value, ConnectError)
    finally:
        transport.close()
