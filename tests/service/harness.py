"""Test harness of the service: a private PostgreSQL cluster, a real service on a free port (in
a thread, or as ``vifbind serve`` processes), tokens per role."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import uvicorn

from vifbind.client import Client
from vifbind.service import auth
from vifbind.service.app import build_state, create_app, server_config
from vifbind.service.bootstrap import ensure_admin_token
from vifbind.service.settings import ServiceSettings
from vifbind.service.state import ServiceState

VIFBIND = str(Path(sys.executable).with_name("vifbind"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class PostgresCluster:
    """A private PostgreSQL cluster started for this test session."""

    directory: Path
    port: int
    bindir: Path

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def psql(self, sql: str) -> None:
        subprocess.run(
            [
                self.bindir / "psql",
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                "postgres",
                "-d",
                "postgres",
                "-qAtc",
                sql,
            ],
            check=True,
            capture_output=True,
        )


def postgres_bindir() -> Path | None:
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return candidates[-1].parent if candidates else None


@contextmanager
def postgres_cluster() -> Iterator[PostgresCluster]:
    """A private cluster (trust auth, free port, private socket directory), removed after;
    needs root (it runs as the postgres user)."""
    bindir = postgres_bindir()
    if bindir is None:
        raise RuntimeError("PostgreSQL is not installed (Debian's postgresql package)")
    directory = Path(tempfile.mkdtemp(prefix="vifbind-pg-"))
    shutil.chown(directory, "postgres")
    port = free_port()

    def as_postgres(*command: str) -> None:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", *command], check=True, capture_output=True
        )

    as_postgres(str(bindir / "initdb"), "-D", f"{directory}/data", "-A", "trust", "-U", "postgres")
    options = f"-p {port} -k {directory} -c listen_addresses=127.0.0.1 -c fsync=off"
    options += " -c max_connections=300"
    as_postgres(
        str(bindir / "pg_ctl"), "-D", f"{directory}/data", "-o", options,
        "-l", f"{directory}/log", "-w", "start",
    )  # fmt: skip
    try:
        yield PostgresCluster(directory=directory, port=port, bindir=bindir)
    finally:
        as_postgres(str(bindir / "pg_ctl"), "-D", f"{directory}/data", "-m", "immediate", "stop")
        shutil.rmtree(directory, ignore_errors=True)


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
    server = uvicorn.Server(server_config(create_app(state), "127.0.0.1", port))
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


@dataclass
class ServeProcess:
    """``vifbind serve`` as a separate process."""

    process: subprocess.Popen[str]
    url: str
    log: Path

    def stop(self, sig: int = 15) -> None:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_serve(state_dir: Path, db: str | None, *extra: str) -> ServeProcess:
    """Start ``vifbind serve`` on a free port and wait until it answers /healthz."""
    port = free_port()
    log = state_dir.parent / f"serve-{port}.log"
    args = [VIFBIND, "serve", "--listen", f"127.0.0.1:{port}", "--state-dir", str(state_dir)]
    if db is not None:
        args += ["--db", db]
    handle = log.open("w")
    process = subprocess.Popen([*args, *extra], stdout=handle, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"vifbind serve exited: {log.read_text()}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return ServeProcess(process=process, url=url, log=log)
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"vifbind serve did not answer: {log.read_text()}")
        time.sleep(0.05)
