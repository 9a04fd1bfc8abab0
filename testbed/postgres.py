"""A private PostgreSQL cluster: its own data and socket directory, trust authentication, a
free port on 127.0.0.1, started and removed by whoever needs it (as root, through the
``postgres`` user of Debian's ``postgresql`` package; the system cluster is never touched)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from testbed.tcp import free_port


@dataclass
class PostgresCluster:
    """A running private cluster."""

    directory: Path
    port: int
    bindir: Path

    def url(self, database: str) -> str:
        """The SQLAlchemy URL of ``database`` in this cluster."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def psql(self, sql: str) -> str:
        """Run ``sql`` as the superuser in database ``postgres``; its output, unaligned."""
        return subprocess.run(
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
            text=True,
        ).stdout.strip()

    def pid(self) -> int:
        """The postmaster's process id (its children are the server's other processes)."""
        return int((self.directory / "data" / "postmaster.pid").read_text().split("\n", 1)[0])

    def server_version(self) -> str:
        """The server's version, as it reports it."""
        return self.psql("SHOW server_version")


def postgres_bindir() -> Path | None:
    """The newest installed PostgreSQL's binaries, if any."""
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return candidates[-1].parent if candidates else None


def missing_prerequisite() -> str | None:
    """Why a private cluster cannot be started here, or ``None`` when it can."""
    if postgres_bindir() is None:
        return "Debian's postgresql package is not installed"
    if os.geteuid() != 0:
        return "a private PostgreSQL cluster is started as root (through the postgres user)"
    return None


@contextmanager
def private_cluster(settings: Mapping[str, str] | None = None) -> Iterator[PostgresCluster]:
    """Start a private cluster with extra server ``settings`` (``-c name=value``); stopped and
    removed on exit, whatever happened."""
    why = missing_prerequisite()
    bindir = postgres_bindir()
    if why is not None or bindir is None:
        raise RuntimeError(f"cannot start PostgreSQL: {why}")
    directory = Path(tempfile.mkdtemp(prefix="vifbind-pg-"))
    try:
        shutil.chown(directory, "postgres")
        port = free_port()
        _as_postgres(bindir / "initdb", "-D", f"{directory}/data", "-A", "trust", "-U", "postgres")
        options = f"-p {port} -k {directory} -c listen_addresses=127.0.0.1"
        options += "".join(f" -c {name}={value}" for name, value in (settings or {}).items())
        _as_postgres(
            bindir / "pg_ctl", "-D", f"{directory}/data", "-o", options,
            "-l", f"{directory}/log", "-w", "start",
        )  # fmt: skip
        try:
            yield PostgresCluster(directory=directory, port=port, bindir=bindir)
        finally:
            _as_postgres(bindir / "pg_ctl", "-D", f"{directory}/data", "-m", "immediate", "stop")
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def _as_postgres(*command: str | Path) -> None:
    subprocess.run(
        ["runuser", "-u", "postgres", "--", *map(str, command)], check=True, capture_output=True
    )
