"""``python -m bench.service`` runs from a checkout and records what it measured: a smoke run
(``--quick``) on SQLite and on a private PostgreSQL. Speed itself is never asserted here."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from testbed.postgres import missing_prerequisite

REPOSITORY = Path(__file__).resolve().parents[2]


def run_quick(tmp_path: Path, db: str) -> str:
    output = tmp_path / "BENCHMARKS.md"
    done = subprocess.run(
        [sys.executable, "-m", "bench.service", "--quick", "--db", db, "--clients", "1,32",
         "--output", str(output)],
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "throughput" in done.stdout, "the table for people is printed"
    return output.read_text()


def figure(recorded: str, db: str, request: str, clients: int, name: str) -> float:
    """The median of one figure in the recorded table: a row's labels are on its first line,
    its other figures follow on lines whose labels are empty."""
    labels = rf"\| {db} \| [^|]+ \| {request} \| {clients} \|"
    row = re.search(rf"^{labels}.*?(?=^\| [a-z]|\Z)", recorded, re.M | re.S)
    assert row is not None, f"no row for {db} {request} {clients}:\n{recorded}"
    value = re.search(rf"\| {re.escape(name)} \([^)]*\) \| ([\d,.]+) \|", row.group(0))
    assert value is not None, f"no {name} for {db} {request} {clients}:\n{row.group(0)}"
    return float(value.group(1).replace(",", ""))


def check_recorded(recorded: str, db: str) -> None:
    assert re.search(r"^### service — \d{4}-\d\d-\d\d \d\d:\d\d UTC — quick run", recorded, re.M)
    assert re.search(r"^Machine: CPU .+ · cores \d+", recorded, re.M)
    assert re.search(r"^Versions: vifbind [0-9a-f]{12}", recorded, re.M)
    for request in ("bind", "explain"):
        for clients in (1, 32):
            assert figure(recorded, db, request, clients, "throughput") > 0
            assert figure(recorded, db, request, clients, "errors") == 0
            assert figure(recorded, db, request, clients, "latency p99") >= figure(
                recorded, db, request, clients, "latency p50"
            )
            assert figure(recorded, db, request, clients, "service peak RSS") > 20
    assert re.search(
        rf"^- {db}, threads .+: stored decisions: [\d,]+ bound \(ovs\)", recorded, re.M
    )


def test_quick_run_on_sqlite(tmp_path: Path) -> None:
    recorded = run_quick(tmp_path, "sqlite")
    check_recorded(recorded, "sqlite")
    assert "32 clients on SQLite" in recorded, "the issue's target is judged"


@pytest.mark.e2e
def test_quick_run_on_postgresql(tmp_path: Path) -> None:
    why = missing_prerequisite()
    if why is not None:
        pytest.skip(f"bench.service on PostgreSQL: {why}")
    recorded = run_quick(tmp_path, "postgresql")
    check_recorded(recorded, "postgresql")
    assert re.search(r"PostgreSQL \d+\.\d+", recorded)
