"""The services under measurement: one ``vifbind serve`` per variant (its thread count), each
on its own copy of one seeded database — SQLite files copied with SQLite's backup, PostgreSQL
databases cloned from a template in one private cluster (default durability: fsync on)."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import ExitStack, closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.common.report import Report
from bench.service.dataset import Dataset, seed
from testbed.postgres import PostgresCluster, private_cluster
from testbed.serve import ServeProcess, start_serve
from vifbind.service.app import open_database
from vifbind.service.settings import DEFAULT_THREADS, ServiceSettings

REPORT_MAX_AGE = "86400"  # seeded reports must stay usable for the whole run
POSTGRES_SETTINGS = {"max_connections": "300"}  # each service pools up to 40 connections
SEEDED = "vifbind_bench"


@dataclass(frozen=True)
class Served:
    """One running variant: its label, process and state directory, and the database
    server's process when it has one (its CPU is measured alongside)."""

    label: str
    process: ServeProcess
    state_dir: Path
    companion: int | None

    def admin_token(self) -> str:
        """The service's admin token (for /metrics)."""
        return (self.state_dir / "admin.token").read_text().strip()


@dataclass(frozen=True)
class Setup:
    """What the load runs need: the stored data, its targets file, the variants serving it."""

    dataset: Dataset
    targets: Path
    services: list[Served]


@contextmanager
def started(
    database: str,
    threads: list[int | None],
    hosts: int,
    ports: int,
    work: Path,
    report: Report,
) -> Iterator[Setup]:
    """Seed ``database`` once, copy it for every thread count in ``threads`` (``None``: the
    service's default) and serve each copy; everything is stopped and removed on exit."""
    with ExitStack() as stack:
        cluster = None
        if database == "postgresql":
            cluster = stack.enter_context(private_cluster(POSTGRES_SETTINGS))
            report.extra_versions["PostgreSQL"] = cluster.server_version()
            cluster.psql(f"CREATE DATABASE {SEEDED}")
        urls = [_url(cluster, work, i) for i in range(len(threads))]
        started_at = time.perf_counter()
        dataset = _seed(urls[0], work, hosts, ports)
        report.notes.append(
            f"{database}: {hosts:,} host reports and {ports:,} ports seeded through the "
            f"service's storage functions in {time.perf_counter() - started_at:.1f} s"
        )
        for i in range(1, len(threads)):
            _copy(cluster, urls[0], urls[i], i)
        targets = work / "targets.txt"
        dataset.write_targets(targets)
        services = []
        for i, count in enumerate(threads):
            state_dir = work / f"state-{i}"
            extra = ["--report-max-age", REPORT_MAX_AGE]
            extra += ["--threads", str(count)] if count is not None else []
            process = start_serve(state_dir, urls[i], *extra)
            stack.callback(process.stop)
            label = f"{DEFAULT_THREADS[database]} (default)" if count is None else str(count)
            companion = cluster.pid() if cluster is not None else None
            services.append(Served(label, process, state_dir, companion))
        yield Setup(dataset=dataset, targets=targets, services=services)


def _url(cluster: PostgresCluster | None, work: Path, i: int) -> str:
    if cluster is None:
        return f"sqlite:///{work / f'state-{i}' / 'vifbind.db'}"
    return cluster.url(SEEDED if i == 0 else f"{SEEDED}_{i}")


def _seed(url: str, work: Path, hosts: int, ports: int) -> Dataset:
    settings = ServiceSettings(state_dir=work / "state-0", db_url=url)
    settings.state_dir.mkdir(parents=True, mode=0o700)
    db = open_database(settings)
    try:
        return seed(settings, db, hosts, ports)
    finally:
        db.dispose()


def _copy(cluster: PostgresCluster | None, source: str, target: str, i: int) -> None:
    if cluster is not None:
        cluster.psql(f"CREATE DATABASE {SEEDED}_{i} TEMPLATE {SEEDED}")
        return
    destination = Path(target.removeprefix("sqlite:///"))
    destination.parent.mkdir(parents=True, mode=0o700)
    with (
        closing(sqlite3.connect(source.removeprefix("sqlite:///"))) as original,
        closing(sqlite3.connect(destination)) as copy,
    ):
        original.backup(copy)
