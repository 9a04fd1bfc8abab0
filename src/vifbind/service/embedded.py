"""The service inside another program (the demo, benchmarks, tests): a real uvicorn server on a
free loopback port, in a thread, stopped when the block ends."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import uvicorn

from vifbind.client import Client
from vifbind.errors import ServiceUnavailable
from vifbind.service import auth
from vifbind.service.app import build_state, create_app, server_config
from vifbind.service.bootstrap import ensure_admin_token
from vifbind.service.settings import ServiceSettings
from vifbind.service.state import ServiceState


def free_port() -> int:
    """A TCP port free on loopback right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class EmbeddedService:
    """A running service: its URL, its state, its admin token, and tokens of other roles."""

    url: str
    state: ServiceState
    admin_token: str

    def token(self, role: str, host: str | None = None, name: str = "") -> str:
        """A new token of ``role`` (bound to ``host`` for an agent)."""
        with self.state.db.write() as tx:
            token, _ = auth.create_token(tx.session, role, host, name or role, tx.now)
        return token

    def client(self, token: str | None = None, timeout: float = 30.0) -> Client:
        """A client with ``token`` (default: the admin token)."""
        return Client(self.url, token or self.admin_token, timeout=timeout)


@contextmanager
def embedded_service(settings: ServiceSettings) -> Iterator[EmbeddedService]:
    """Run the service for ``settings`` on a free loopback port until the block ends."""
    state = build_state(settings)
    token_path, _ = ensure_admin_token(state.db, settings.state_dir)
    port = free_port()
    server = uvicorn.Server(server_config(create_app(state), "127.0.0.1", port))
    thread = threading.Thread(target=server.run, name="vifbind-service", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise ServiceUnavailable("the embedded service did not start")
        time.sleep(0.01)
    try:
        yield EmbeddedService(
            url=f"http://127.0.0.1:{port}", state=state, admin_token=token_path.read_text().strip()
        )
    finally:
        server.should_exit = True
        thread.join(timeout=20)
