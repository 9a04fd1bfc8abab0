"""The shared reporting of the benchmarks: summaries over repetitions, the recorded table."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.common.figures import Figure, percentile, repeat, summarize
from bench.common.profile import by_package, hotspots, samples
from bench.common.report import Report, Row, Target, record, to_markdown


def test_percentiles_interpolate_between_ranks() -> None:
    values = [30.0, 10.0, 20.0, 40.0]
    assert percentile(values, 50) == 25.0
    assert percentile(values, 95) == pytest.approx(38.5)
    summary = summarize(values)
    assert (summary.median, summary.min, summary.max, summary.n) == (25.0, 10.0, 40.0, 4)
    with pytest.raises(ValueError, match="no values"):
        percentile([], 50)


def test_repeat_collects_each_figure_per_repetition() -> None:
    figures = [Figure("rate", "ops/s"), Figure("rss", "MiB")]
    repeat(3, figures, lambda i: {"rate": 100.0 + i, "rss": 50.0})
    assert figures[0].values == [100.0, 101.0, 102.0]
    assert figures[1].values == [50.0, 50.0, 50.0]


def test_report_records_rows_targets_and_environment(tmp_path: Path) -> None:
    report = Report(benchmark="plug_ovs", parameters={"ports": "500"})
    report.rows.append(
        Row(
            labels={"tool": "vifbind", "n": "500"},
            figures=[Figure("plug", "s", digits=2, values=[0.5, 0.7, 0.6])],
        )
    )
    report.targets.append(Target("plug 500 ≤ 1.0 s", met=True, observed="0.60 s"))
    report.notes.append("userspace datapath")
    report.extra_versions["Open vSwitch"] = "3.1.0"
    assert report.figure("plug", tool="vifbind", n="500").summary().median == 0.6

    path = tmp_path / "BENCHMARKS.md"
    path.write_text("# Benchmarks\n\nPreface.\n")
    record(report, path)
    text = path.read_text()
    assert text.startswith("# Benchmarks\n\nPreface.\n\n### plug_ovs — ")
    assert "| tool | n | measure | median | p95 | min | max |" in text
    assert "| vifbind | 500 | plug (s) | 0.60 | 0.69 | 0.50 | 0.70 |" in text
    assert "- met: plug 500 ≤ 1.0 s — 0.60 s" in text
    assert "- userspace datapath" in text
    assert "Open vSwitch 3.1.0" in text
    assert to_markdown(report) in text


def test_profile_summaries_by_package_and_function(tmp_path: Path) -> None:
    stacks = tmp_path / "stacks.txt"
    bind = "bind (/repo/src/vifbind/service/bindings.py:60)"
    flush = "Session.flush (/venv/lib/python3.11/site-packages/sqlalchemy/orm/session.py:4594)"
    decide = "negotiate (/repo/src/vifbind/negotiate.py:57)"
    generated = "commit (<sqlalchemy generated _go() wrapper>:2)"
    stacks.write_text(
        f"run (/usr/lib/python3.11/threading.py:1) 10\n"
        f"{bind};{flush} 60\n"
        f"{bind};{decide} 20\n"
        f"{bind};{generated} 10\n"
    )
    assert samples(stacks) == 100
    assert by_package(stacks) == [("sqlalchemy", 0.7), ("vifbind", 0.2), ("python", 0.1)]
    spots = hotspots(stacks, "vifbind", skip=("(service/",))
    assert [(s.frame, s.total_share, s.self_share) for s in spots] == [
        ("negotiate (negotiate.py)", 0.2, 0.2),
    ]
    everything = hotspots(stacks, "vifbind")
    assert [(s.frame, s.total_share) for s in everything] == [
        ("bind (service/bindings.py)", 0.9),
        ("negotiate (negotiate.py)", 0.2),
    ]
