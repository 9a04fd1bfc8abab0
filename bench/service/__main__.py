"""``python -m bench.service``: binding decisions per second and latency of ``vifbind serve``
at 1, 8 and 32 concurrent clients, on SQLite and on a private PostgreSQL, with 1,000 host
reports and 10,000 ports stored; the service's CPU and peak RSS alongside."""

from __future__ import annotations

import re
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import httpx
import typer

from bench.common.figures import MIN_REPETITIONS, Figure, repeat
from bench.common.process import Span
from bench.common.profile import RATE, by_package, hotspots, sampled, samples
from bench.common.report import BENCHMARKS_MD, Report, Row, Target, record, show
from bench.service import load
from bench.service.dataset import Dataset, seed
from testbed.postgres import private_cluster
from testbed.serve import ServeProcess, start_serve
from vifbind.service.app import open_database
from vifbind.service.settings import ServiceSettings

REQUESTS = {
    "bind": "POST /v1/ports/{id}/bindings",
    "explain": "POST /v1/explain",
}
WARM_UP_SECONDS = 2.0
TARGET_CLIENTS = 32
TARGET_RATE = 1000.0
TARGET_P99_MS = 50.0
REPORT_MAX_AGE = "86400"  # seeded reports must stay usable for the whole run
ENTRY_POINTS = ("<module>", "(cli/")  # the event loop runs under them: not a hot spot
POSTGRES_SETTINGS = {"max_connections": "200"}  # the service pools up to 40; the rest default


@dataclass(frozen=True)
class Options:
    """What to measure and how long."""

    databases: list[str]
    clients: list[int]
    seconds: float
    repetitions: int
    hosts: int
    ports: int
    profile: Path | None
    threads: int | None


def main(
    db: Annotated[str, typer.Option(help="Databases to measure, in order.")] = "sqlite,postgresql",
    clients: Annotated[str, typer.Option(help="Concurrent client counts.")] = "1,8,32",
    seconds: Annotated[float, typer.Option(help="Length of one measured run.")] = 10.0,
    repetitions: Annotated[int, typer.Option(help="Runs per configuration.")] = MIN_REPETITIONS,
    hosts: Annotated[int, typer.Option(help="Host reports stored beforehand.")] = 1000,
    ports: Annotated[int, typer.Option(help="Ports stored beforehand.")] = 10000,
    quick: Annotated[
        bool,
        typer.Option(
            help="Smoke run: 1 repetition of 1 s, 20 hosts, 50 ports; recorded only with --output."
        ),
    ] = False,
    output: Annotated[
        Path | None, typer.Option(help="Where to append the figures (default BENCHMARKS.md).")
    ] = None,
    threads: Annotated[
        int | None,
        typer.Option(help="vifbind serve --threads (default: the service's own per database)."),
    ] = None,
    profile: Annotated[
        Path | None,
        typer.Option(
            help="Also sample the service with py-spy during one extra bind run at the most "
            "clients, per database; collapsed stacks are written to this directory."
        ),
    ] = None,
) -> None:
    """Measure the service and append the figures to BENCHMARKS.md."""
    options = Options(
        databases=[d.strip() for d in db.split(",") if d.strip()],
        clients=_counts(clients),
        seconds=1.0 if quick else seconds,
        repetitions=1 if quick else repetitions,
        hosts=20 if quick else hosts,
        ports=50 if quick else ports,
        profile=profile,
        threads=threads,
    )
    unknown = set(options.databases) - {"sqlite", "postgresql"}
    if unknown:
        raise typer.BadParameter(f"unknown {', '.join(sorted(unknown))}", param_hint="--db")
    if not quick and options.repetitions < MIN_REPETITIONS:
        raise typer.BadParameter(
            f"at least {MIN_REPETITIONS} (or --quick for a smoke run)", param_hint="--repetitions"
        )
    report = Report(
        benchmark="service",
        quick=quick,
        parameters={
            "hosts": f"{options.hosts:,}",
            "ports": f"{options.ports:,}",
            "run": f"{options.seconds:g} s",
            "repetitions": str(options.repetitions),
            "load": "wrk, closed loop",
            "service threads": "default" if threads is None else str(threads),
        },
    )
    try:
        report.extra_versions["wrk"] = load.version()
        with tempfile.TemporaryDirectory(prefix="vifbind-bench-") as work:
            for database in options.databases:
                measure_database(database, options, report, Path(work) / database)
    except RuntimeError as exc:
        typer.echo(f"bench.service: {exc}", err=True)
        raise typer.Exit(1) from None
    judge(report, options)
    show(report)
    if output is not None or not quick:
        record(report, output or BENCHMARKS_MD)


def measure_database(database: str, options: Options, report: Report, work: Path) -> None:
    """Seed a fresh database, start ``vifbind serve`` on it and measure every request kind at
    every client count."""
    work.mkdir(parents=True)
    with _database_url(database, report) as url:
        settings = ServiceSettings(state_dir=work / "state", db_url=url)
        db = open_database(settings)
        started = time.perf_counter()
        dataset = seed(settings, db, options.hosts, options.ports)
        seeded = time.perf_counter() - started
        db.dispose()
        report.notes.append(
            f"{database}: {options.hosts:,} host reports and {options.ports:,} ports seeded "
            f"through the service's storage functions in {seeded:.1f} s"
        )
        targets = work / "targets.txt"
        dataset.write_targets(targets)
        extra = ["--report-max-age", REPORT_MAX_AGE]
        if options.threads is not None:
            extra += ["--threads", str(options.threads)]
        service = start_serve(settings.state_dir, url, *extra)
        try:
            for kind in REQUESTS:
                warm_up = min(WARM_UP_SECONDS, options.seconds)
                load.run(service.url, targets, kind, dataset.token, 8, warm_up)
                for clients in options.clients:
                    figures = measure_runs(service, targets, dataset, kind, clients, options)
                    labels = {"db": database, "request": kind, "clients": str(clients)}
                    report.rows.append(Row(labels=labels, figures=figures))
            report.notes.append(f"{database}: {decision_outcomes(service, settings)}")
            if options.profile is not None:
                profile_binds(service, targets, dataset, database, options, report, options.profile)
        finally:
            service.stop()


def measure_runs(
    service: ServeProcess,
    targets: Path,
    dataset: Dataset,
    kind: str,
    clients: int,
    options: Options,
) -> list[Figure]:
    """The repetitions of one configuration."""
    figures = [
        Figure("throughput", "decisions/s"),
        Figure("latency p50", "ms", digits=1),
        Figure("latency p99", "ms", digits=1),
        Figure("service CPU", "cores", digits=2),
        Figure("service CPU per decision", "ms", digits=2),
        Figure("wrk CPU", "cores", digits=2),
        Figure("others' CPU", "cores", digits=2),
        Figure("service peak RSS", "MiB"),
        Figure("errors", "answers"),
    ]

    def once(_: int) -> dict[str, float]:
        span = Span(service.pid)
        result = load.run(service.url, targets, kind, dataset.token, clients, options.seconds)
        used = span.end()
        return {
            "throughput": result.per_second,
            "latency p50": result.p50_ms,
            "latency p99": result.p99_ms,
            "service CPU": used.cores,
            "service CPU per decision": 1000 * used.cores / result.per_second,
            "wrk CPU": used.load_cores,
            "others' CPU": used.other_cores,
            "service peak RSS": used.peak_rss_mib,
            "errors": result.errors,
        }

    return repeat(options.repetitions, figures, once)


def profile_binds(
    service: ServeProcess,
    targets: Path,
    dataset: Dataset,
    database: str,
    options: Options,
    report: Report,
    directory: Path,
) -> None:
    """One extra, unrecorded bind run at the most clients under py-spy; the hot spots go to the
    notes and the collapsed stacks to ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    stacks = directory / f"service-{database}-bind.txt"
    clients = max(options.clients)
    with sampled(service.pid, stacks):
        result = load.run(service.url, targets, "bind", dataset.token, clients, options.seconds)
    held = samples(stacks) / (RATE * result.seconds)
    packages = ", ".join(f"{name} {share:.0%}" for name, share in by_package(stacks)[:8])
    found = hotspots(stacks, "vifbind", skip=ENTRY_POINTS)
    spots = ", ".join(f"{s.frame} {s.total_share:.0%}" for s in found)
    report.notes.append(
        f"{database}: py-spy while binding at {clients} clients ({result.per_second:,.0f}/s), "
        f"GIL held {held:.0%} of the time; those samples ({stacks.name}) by package of the "
        f"innermost frame: {packages}; under vifbind's functions: {spots}"
    )


def decision_outcomes(service: ServeProcess, settings: ServiceSettings) -> str:
    """How the decisions made during the run came out, from the service's own metrics."""
    token = (settings.state_dir / "admin.token").read_text().strip()
    text = httpx.get(
        f"{service.url}/metrics", headers={"Authorization": f"Bearer {token}"}, timeout=30
    ).text
    found = re.findall(
        r'^vifbind_binding_decisions_total\{backend="([^"]*)",status="([^"]*)"\} (\S+)$',
        text,
        flags=re.MULTILINE,
    )
    parts = [
        f"{float(n):,.0f} {status} ({backend or 'no backend'})" for backend, status, n in found
    ]
    return "stored decisions: " + (", ".join(parts) or "none")


def judge(report: Report, options: Options) -> None:
    """Issue 7's target for the service, when this run measured its configuration."""
    labels = {"db": "sqlite", "request": "bind", "clients": str(TARGET_CLIENTS)}
    try:
        rate = report.figure("throughput", **labels).summary().median
        p99 = report.figure("latency p99", **labels).summary().median
        errors = report.figure("errors", **labels).summary().max
    except KeyError:
        return
    report.targets.append(
        Target(
            statement=f"≥ {TARGET_RATE:,.0f} decisions/s with p99 ≤ {TARGET_P99_MS:g} ms at "
            f"{TARGET_CLIENTS} clients on SQLite (bind, medians of {options.repetitions})",
            met=rate >= TARGET_RATE and p99 <= TARGET_P99_MS and errors == 0,
            observed=f"{rate:,.0f} decisions/s, p99 {p99:.1f} ms, {errors:.0f} errors",
        )
    )


def _counts(text: str) -> list[int]:
    try:
        counts = [int(c) for c in text.split(",") if c.strip()]
    except ValueError:
        counts = []
    if not counts or min(counts) < 1:
        raise typer.BadParameter(
            f"{text!r} is not a list of counts like 1,8,32", param_hint="--clients"
        )
    return counts


@contextmanager
def _database_url(database: str, report: Report) -> Iterator[str | None]:
    """``None`` (the service's own SQLite in its state directory) or a fresh database in a
    private PostgreSQL cluster with default durability (fsync on)."""
    if database == "sqlite":
        yield None
        return
    with private_cluster(POSTGRES_SETTINGS) as cluster:
        report.extra_versions["PostgreSQL"] = cluster.server_version()
        cluster.psql("CREATE DATABASE vifbind_bench")
        yield cluster.url("vifbind_bench")


if __name__ == "__main__":
    typer.run(main)
