"""The options both plug benchmarks take, and the frame of a run (``--output`` and how a run
ends are ``bench.common.cli``'s, as for every benchmark)."""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from bench.common.cli import require_repetitions
from bench.common.report import Report

QUICK_N = 20

Repetitions = Annotated[int, typer.Option(help="Runs per side and N.")]
Sides = Annotated[str, typer.Option(help="Sides to measure.")]
Quick = Annotated[
    bool, typer.Option(help=f"Smoke run: 1 repetition of N={QUICK_N}; recorded only with --output.")
]
Profile = Annotated[
    Path | None,
    typer.Option(
        help="Also sample the agent with py-spy during one extra plug and unplug of the "
        "largest N; collapsed stacks are written to this directory."
    ),
]


def plan(
    counts: str, repetitions: int, sides: str, known: tuple[str, ...], quick: bool
) -> tuple[list[int], int, list[str]]:
    """The N values, the repetitions and the sides of a run (``BadParameter`` when wrong)."""
    try:
        numbers = [QUICK_N] if quick else [int(c) for c in counts.split(",") if c.strip()]
    except ValueError:
        numbers = []
    if not numbers or min(numbers) < 1:
        raise typer.BadParameter(
            f"{counts!r} is not a list of counts like 100,500", param_hint="--counts"
        )
    chosen = [s.strip() for s in sides.split(",") if s.strip()]
    unknown = set(chosen) - set(known)
    if unknown or not chosen:
        raise typer.BadParameter(
            f"{', '.join(sorted(unknown)) or 'none'}: sides are {', '.join(known)}",
            param_hint="--sides",
        )
    require_repetitions(quick, repetitions)
    return numbers, 1 if quick else repetitions, chosen


def execute(report: Report, body: Callable[[Path], None]) -> None:
    """Run ``body`` in a private work directory (removed afterwards); a failure is one line
    on stderr and exit code 1."""
    try:
        with tempfile.TemporaryDirectory(prefix=f"vifbind-bench-{report.benchmark}-") as work:
            body(Path(work))
    except (RuntimeError, subprocess.CalledProcessError) as exc:
        typer.echo(f"bench.{report.benchmark}: {exc}", err=True)
        raise typer.Exit(1) from None
