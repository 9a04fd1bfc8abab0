"""Test harness of the service: a real service on a free port in a thread of the test process,
tokens per role. (Private PostgreSQL clusters and ``vifbind serve`` processes: ``testbed``.)"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import uvicorn

from testbed.tcp import free_port
from vifbind.client import Client
from vifbind.service import auth
from vifbind.service.app import build_state, create_app
from vifbind.service.bootstrap import ensure_admin_token
from vifbind.service.settings import ServiceSettings
from vifbind.service.state import ServiceState


@dataclass
class RunningService:
    """A service answering on ``url``, with an admin client and a way to mint role tokens."""

    url: str
    state: ServiceState
    admin_token: str

    def token(self, role: str, host: str | None = None) -> str:
        with self.state.db.write() as tx:
            token, _ = auth.create_token(tx.session, role, host, f"test {role}", tx.now)
        return token

    def client(self, token: str | None = None, timeout: float = 30.0) -> Client:
        return Client(self.url, token or self.admin_token, timeout=timeout)


@contextmanager
def serve_in_thread(settings: ServiceSettings) -> Iterator[RunningService]:
    """A real uvicorn server for ``settings`` on a free port, in a thread of this process."""
    state = build_state(settings)
    token_path, _ = ensure_admin_token(state.db, settings.state_dir)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(state), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the service did not start")
        time.sleep(0.01)
    try:
        yield RunningService(
            url=f"http://127.0.0.1:{port}",
            state=state,
            admin_token=token_path.read_text().strip(),
        )
    finally:
        server.should_exit = True
        thread.join(timeout=20)
