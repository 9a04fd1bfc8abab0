"""``python -m bench.reconcile`` runs from a checkout and records what it measured: a smoke run
(``--quick``: 200 ports, one agent restart) whose reconcile repaired drift and removed orphans.
Speed itself is never asserted here."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from bench.common.compute import missing_prerequisite

REPOSITORY = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.e2e


def figure(recorded: str, name: str) -> float:
    value = re.search(rf"\| {re.escape(name)} \([^)]*\) \| ([\d,.]+) \|", recorded)
    assert value is not None, f"no {name}:\n{recorded}"
    return float(value.group(1).replace(",", ""))


def test_quick_run(tmp_path: Path) -> None:
    why = missing_prerequisite()
    if why is not None:
        pytest.skip(f"bench.reconcile: {why}")
    output = tmp_path / "BENCHMARKS.md"
    done = subprocess.run(
        [sys.executable, "-m", "bench.reconcile", "--quick", "--output", str(output)],
        cwd=REPOSITORY, capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "start → converged" in done.stdout, "the table for people is printed"
    recorded = output.read_text()
    assert re.search(r"^### reconcile — \d{4}-\d\d-\d\d \d\d:\d\d UTC — quick run", recorded, re.M)
    assert "| vifbind agent |" in recorded
    converged = figure(recorded, "start → converged")
    assert 0 < figure(recorded, "first reconcile") < converged
    # 5 % of 200 ports drifted and 5 % orphaned: the agent's own log says what it found.
    assert figure(recorded, "orphans removed") == 10
    assert figure(recorded, "drift found") >= 10
    assert figure(recorded, "agent peak RSS") > 20
    assert re.search(r"^- drift per restart: \d+ device down, \d+ wrong MTU", recorded, re.M)
    assert re.search(r"^- (met|\*\*missed\*\*): reconcile 200 ports ≤ 5 s", recorded, re.M)
    assert re.search(r"^- (met|\*\*missed\*\*): agent RSS ≤ 60 MB", recorded, re.M)
