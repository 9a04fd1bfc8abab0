"""Running a plug benchmark's smoke run and reading the table it recorded."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[2]


def run_quick(command: str, tmp_path: Path) -> tuple[str, str]:
    """Run ``python -m command --quick``; its printed output and what it recorded."""
    output = tmp_path / "BENCHMARKS.md"
    done = subprocess.run(
        [sys.executable, "-m", command, "--quick", "--output", str(output)],
        cwd=REPOSITORY, capture_output=True, text=True, check=False, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout, output.read_text()


def figure(recorded: str, side: str, n: int, name: str) -> float:
    """The median of one figure of one side's row in the recorded table."""
    labels = rf"^\| {re.escape(side)} \| {n} \|"
    row = re.search(rf"{labels}.*?(?=^\| [a-zA-Z]|\Z)", recorded, re.M | re.S)
    assert row is not None, f"no row for {side} N={n}:\n{recorded}"
    value = re.search(rf"\| {re.escape(name)} \([^)]*\) \| ([\d,.]+) \|", row.group(0))
    assert value is not None, f"no {name} for {side}:\n{row.group(0)}"
    return float(value.group(1).replace(",", ""))
