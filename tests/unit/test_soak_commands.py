"""The soak commands docs/reliability.md gives start from a checkout as shown there (their
imports resolve outside pytest); their runs themselves take minutes and are recorded in
docs/reliability.md."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SOAK = Path(__file__).resolve().parents[1] / "soak"


@pytest.mark.parametrize("command", ["crash_soak.py", "load_soak.py"])
def test_soak_command_starts(command: str) -> None:
    done = subprocess.run(
        [sys.executable, str(SOAK / command), "--help"],
        cwd=SOAK.parents[1],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "usage:" in done.stdout and "--db" in done.stdout
