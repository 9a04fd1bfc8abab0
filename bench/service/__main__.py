"""``python -m bench.service``: binding decisions per second and latency of ``vifbind serve``
at 1, 8 and 32 concurrent clients, on SQLite and on a private PostgreSQL, with 1,000 host
reports and 10,000 ports stored; the service's CPU and peak RSS alongside. Several thread
counts (``--threads 1,2,4``) are measured side by side, their runs interleaved."""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import httpx
import typer

from bench.common.cli import run_command
from bench.common.figures import MIN_REPETITIONS, Figure, add
from bench.common.process import Span
from bench.common.profile import RATE, by_package, hotspots, sampled, samples
from bench.common.report import BENCHMARKS_MD, Report, Row, Target, record, show
from bench.service import load
from bench.service.services import Served, Setup, started

REQUESTS = ("bind", "explain")  # POST /v1/ports/{id}/bindings, POST /v1/explain
WARM_UP_SECONDS = 2.0
TARGET_CLIENTS = 32
TARGET_RATE = 1000.0
TARGET_P99_MS = 50.0
ENTRY_POINTS = ("<module>", "(cli/")  # the event loop runs under them: not a hot spot


@dataclass(frozen=True)
class Options:
    """What to measure and how long."""

    databases: list[str]
    clients: list[int]
    threads: list[int | None]
    seconds: float
    repetitions: int
    hosts: int
    ports: int
    profile: Path | None


def main(
    db: Annotated[str, typer.Option(help="Databases to measure, in order.")] = "sqlite,postgresql",
    clients: Annotated[str, typer.Option(help="Concurrent client counts.")] = "1,8,32",
    threads: Annotated[
        str,
        typer.Option(
            help="vifbind serve --threads values to measure side by side ('default': the "
            "service's own per database)."
        ),
    ] = "default",
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
        clients=_counts(clients, "--clients"),
        threads=[None if t.strip() == "default" else _counts(t, "--threads")[0]
                 for t in threads.split(",") if t.strip()],
        seconds=1.0 if quick else seconds,
        repetitions=1 if quick else repetitions,
        hosts=20 if quick else hosts,
        ports=50 if quick else ports,
        profile=profile,
    )  # fmt: skip
    unknown = set(options.databases) - {"sqlite", "postgresql"}
    if unknown or not options.databases:
        raise typer.BadParameter(f"{db!r}: sqlite and/or postgresql", param_hint="--db")
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
    """Serve one seeded database per thread count and measure every request kind at every
    client count, the variants' repetitions taking turns."""
    work.mkdir(parents=True)
    with started(database, options.threads, options.hosts, options.ports, work, report) as setup:
        for kind in REQUESTS:
            for served in setup.services:
                warm_up = min(WARM_UP_SECONDS, options.seconds)
                load.run(served.process.url, setup.targets, kind, setup.dataset.token, 8, warm_up)
            for clients in options.clients:
                rows = [
                    Row(
                        labels={"db": database, "threads": served.label, "request": kind,
                                "clients": str(clients)},
                        figures=_figures(served),
                    )
                    for served in setup.services
                ]  # fmt: skip
                for _ in range(options.repetitions):
                    for served, row in zip(setup.services, rows, strict=True):
                        add(row.figures, measure_once(served, setup, kind, clients, options))
                report.rows += rows
        for served in setup.services:
            outcomes = decision_outcomes(served)
            report.notes.append(f"{database}, threads {served.label}: {outcomes}")
        if options.profile is not None:
            profile_binds(setup.services[0], setup, database, options, report, options.profile)


def _figures(served: Served) -> list[Figure]:
    database = [Figure("database CPU", "cores", digits=2)] if served.companion else []
    return [
        Figure("throughput", "decisions/s"),
        Figure("latency p50", "ms", digits=1),
        Figure("latency p99", "ms", digits=1),
        Figure("service CPU", "cores", digits=2),
        Figure("service CPU per decision", "ms", digits=2),
        *database,
        Figure("wrk CPU", "cores", digits=2),
        Figure("others' CPU", "cores", digits=2),
        Figure("service peak RSS", "MiB"),
        Figure("errors", "answers"),
    ]


def measure_once(
    served: Served, setup: Setup, kind: str, clients: int, options: Options
) -> dict[str, float]:
    """One run of ``clients`` clients sending ``kind`` requests to one variant."""
    span = Span(served.process.pid, served.companion)
    result = load.run(
        served.process.url, setup.targets, kind, setup.dataset.token, clients, options.seconds
    )
    used = span.end()
    return {
        "throughput": result.per_second,
        "latency p50": result.p50_ms,
        "latency p99": result.p99_ms,
        "service CPU": used.cores,
        "service CPU per decision": 1000 * used.cores / max(result.per_second, 1e-9),
        "database CPU": used.companion_cores,
        "wrk CPU": used.load_cores,
        "others' CPU": used.other_cores,
        "service peak RSS": used.peak_rss_mib,
        "errors": result.errors,
    }


def profile_binds(
    served: Served,
    setup: Setup,
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
    url, token = served.process.url, setup.dataset.token
    with sampled(served.process.pid, stacks):
        result = load.run(url, setup.targets, "bind", token, clients, options.seconds)
    held = samples(stacks) / (RATE * result.seconds)
    packages = ", ".join(f"{name} {share:.0%}" for name, share in by_package(stacks)[:8])
    found = hotspots(stacks, "vifbind", skip=ENTRY_POINTS)
    spots = ", ".join(f"{s.frame} {s.total_share:.0%}" for s in found)
    report.notes.append(
        f"{database}, threads {served.label}: py-spy while binding at {clients} clients "
        f"({result.per_second:,.0f}/s), GIL held {held:.0%} of the time; those samples "
        f"({stacks.name}) by package of the innermost frame: {packages}; under vifbind's "
        f"functions: {spots}"
    )


def decision_outcomes(served: Served) -> str:
    """How the decisions made during the run came out, from the service's own metrics."""
    text = httpx.get(
        f"{served.process.url}/metrics",
        headers={"Authorization": f"Bearer {served.admin_token()}"},
        timeout=30,
    ).text
    found = re.findall(
        r'^vifbind_binding_decisions_total\{backend="([^"]*)",status="([^"]*)"\} (\S+)$',
        text,
        flags=re.MULTILINE,
    )
    parts = [f"{float(n):,.0f} {status} ({backend or 'none'})" for backend, status, n in found]
    return "stored decisions: " + (", ".join(parts) or "none")


def judge(report: Report, options: Options) -> None:
    """Issue 7's target for the service, for every variant this run measured it on."""
    for row in report.rows:
        labels = row.labels
        if (labels["db"], labels["request"], labels["clients"]) != (
            "sqlite", "bind", str(TARGET_CLIENTS)
        ):  # fmt: skip
            continue
        rate = report.figure("throughput", **labels).summary().median
        p99 = report.figure("latency p99", **labels).summary().median
        errors = report.figure("errors", **labels).summary().max
        report.targets.append(
            Target(
                statement=f"≥ {TARGET_RATE:,.0f} decisions/s with p99 ≤ {TARGET_P99_MS:g} ms at "
                f"{TARGET_CLIENTS} clients on SQLite (bind, threads {labels['threads']}, "
                f"medians of {options.repetitions})",
                met=rate >= TARGET_RATE and p99 <= TARGET_P99_MS and errors == 0,
                observed=f"{rate:,.0f} decisions/s, p99 {p99:.1f} ms, {errors:.0f} errors",
            )
        )


def _counts(text: str, option: str) -> list[int]:
    try:
        counts = [int(c) for c in text.split(",") if c.strip()]
    except ValueError:
        counts = []
    if not counts or min(counts) < 1:
        raise typer.BadParameter(f"{text!r} is not a list of counts like 1,8,32", param_hint=option)
    return counts


if __name__ == "__main__":
    run_command(main)
