"""What the benchmark commands share on their command line: how they run, the ``--output``
option, the repetitions check, and showing then recording the report."""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Annotated, Any

import typer

from bench.common.figures import MIN_REPETITIONS
from bench.common.report import BENCHMARKS_MD, Report, record, show

Output = Annotated[
    Path | None,
    typer.Option(help="Where to append the figures (default BENCHMARKS.md)."),
]


def run_command(main: Callable[..., Any]) -> None:
    """Run a benchmark command. SIGTERM (``timeout``, a CI runner) unwinds it like Ctrl-C, so
    that every namespace, daemon and directory it made is removed: Python's default would end
    the process without running any cleanup."""

    def stop(signum: int, _frame: FrameType | None) -> None:
        sys.exit(128 + signum)

    signal.signal(signal.SIGTERM, stop)
    typer.run(main)


def require_repetitions(quick: bool, repetitions: int) -> None:
    """A measurement repeats at least ``MIN_REPETITIONS`` times; a smoke run may not."""
    if not quick and repetitions < MIN_REPETITIONS:
        raise typer.BadParameter(
            f"at least {MIN_REPETITIONS} (or --quick for a smoke run)",
            param_hint="--repetitions",
        )


def finish(report: Report, quick: bool, output: Path | None) -> None:
    """Print the report; record it (a smoke run only when given an ``output``)."""
    show(report)
    if output is not None or not quick:
        record(report, output or BENCHMARKS_MD)
