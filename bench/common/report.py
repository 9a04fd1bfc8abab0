"""A benchmark's report: its figures by configuration, its targets, notes, machine and
versions — printed as a table for people and appended to BENCHMARKS.md."""

from __future__ import annotations

import shlex
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bench.common.environment import REPOSITORY, machine, versions
from bench.common.figures import Figure

BENCHMARKS_MD = REPOSITORY / "BENCHMARKS.md"
STATISTICS = ("median", "p95", "min", "max")
WIDE = 160


@dataclass
class Row:
    """The figures of one configuration (e.g. ``db=sqlite, request=bind, clients=32``)."""

    labels: dict[str, str]
    figures: list[Figure]


@dataclass(frozen=True)
class Target:
    """A stated target, whether this run met it, and what was observed."""

    statement: str
    met: bool
    observed: str


@dataclass
class Report:
    """Everything one run of one benchmark found; the machine is noted when it starts."""

    benchmark: str
    parameters: dict[str, str]
    quick: bool = False
    rows: list[Row] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    extra_versions: dict[str, str] = field(default_factory=dict)
    machine: dict[str, str] = field(default_factory=machine)
    started: datetime = field(default_factory=lambda: datetime.now(UTC))
    command: str = field(default_factory=lambda: shlex.join(["python", "-m", *_argv()]))

    def figure(self, name: str, **labels: str) -> Figure:
        """The figure ``name`` of the row with exactly ``labels``."""
        for row in self.rows:
            if row.labels == labels:
                for figure in row.figures:
                    if figure.name == name:
                        return figure
        raise KeyError(f"no figure {name!r} for {labels}")


def show(report: Report, console: Console | None = None) -> None:
    """Print the report's table, targets and notes for people."""
    # Not on a terminal (a log, a pipe): wide enough that the table does not wrap.
    console = console or (Console() if sys.stdout.isatty() else Console(width=WIDE))
    table = Table(title=f"{report.benchmark} — {_settings(report)}", title_justify="left")
    for key in _label_keys(report):
        table.add_column(key)
    table.add_column("measure")
    for statistic in STATISTICS:
        table.add_column(statistic, justify="right")
    for cells in _cells(report):
        table.add_row(*cells)
    console.print(table)
    for target in report.targets:
        verdict = "[green]met[/green]" if target.met else "[red]missed[/red]"
        console.print(f"target {verdict}: {target.statement} — {target.observed}")
    for note in report.notes:
        console.print(f"note: {note}")


def to_markdown(report: Report) -> str:
    """The report as a section of BENCHMARKS.md."""
    when = report.started.strftime("%Y-%m-%d %H:%M UTC")
    keys = _label_keys(report)
    header = [*keys, "measure", *STATISTICS]
    lines = [
        f"### {report.benchmark} — {when}"
        + (" — quick run, not a measurement" if report.quick else ""),
        "",
        f"`{report.command}` — {_settings(report)}",
        "",
        "Machine: " + _pairs(report.machine),
        "",
        "Versions: " + _pairs(versions(report.extra_versions)),
        "",
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" for _ in [*keys, "measure"]) + "|" + "---:|" * len(STATISTICS),
    ]
    lines += ["| " + " | ".join(cells) + " |" for cells in _cells(report)]
    if report.targets:
        lines += ["", "Targets:", ""]
        lines += [
            f"- {'met' if t.met else '**missed**'}: {t.statement} — {t.observed}"
            for t in report.targets
        ]
    if report.notes:
        lines += ["", "Notes:", ""]
        lines += [f"- {note}" for note in report.notes]
    return "\n".join(lines) + "\n"


def record(report: Report, path: Path = BENCHMARKS_MD) -> None:
    """Append the report to ``path`` (created with a title when missing)."""
    existing = path.read_text() if path.exists() else "# Benchmarks\n"
    path.write_text(existing.rstrip("\n") + "\n\n" + to_markdown(report))


def _settings(report: Report) -> str:
    return ", ".join(f"{k} {v}" for k, v in report.parameters.items())


def _pairs(values: dict[str, str]) -> str:
    return " · ".join(f"{k} {v}" for k, v in values.items())


def _label_keys(report: Report) -> list[str]:
    keys: list[str] = []
    for row in report.rows:
        keys += [k for k in row.labels if k not in keys]
    return keys


def _cells(report: Report) -> list[list[str]]:
    """One line per figure; a row's labels are written on its first line only."""
    keys = _label_keys(report)
    lines = []
    for row in report.rows:
        for i, figure in enumerate(row.figures):
            labels = [row.labels.get(k, "") if i == 0 else "" for k in keys]
            summary = figure.summary()
            values = [summary.median, summary.p95, summary.min, summary.max]
            measure = f"{figure.name} ({figure.unit})"
            lines.append([*labels, measure, *(figure.show(v) for v in values)])
    return lines


def _argv() -> list[str]:
    """How the benchmark was started: its module and arguments."""
    module = sys.modules["__main__"].__spec__
    name = module.name.removesuffix(".__main__") if module is not None else sys.argv[0]
    return [name, *sys.argv[1:]]
