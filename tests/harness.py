"""Test harness of the service: a private PostgreSQL cluster, a real service on a free port (in
a thread, or as ``vifbind serve`` processes), tokens per role."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from vifbind.service.embedded import EmbeddedService, embedded_service, free_port

VIFBIND = str(Path(sys.executable).with_name("vifbind"))


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


RunningService = EmbeddedService
"""A service running in this process (see ``vifbind.service.embedded``)."""
serve_in_thread = embedded_service


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
