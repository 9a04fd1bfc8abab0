"""In CI (``VIFBIND_REQUIRE_E2E=1``) a skipped test fails; elsewhere it stays a skip."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]


def run_skipping_test(tmp_path: Path, require: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_needs_daemon.py").write_text(
        "import pytest\n\ndef test_needs_ovs():\n    pytest.skip('ovsdb-server not running')\n"
    )
    env = os.environ | {"VIFBIND_REQUIRE_E2E": require, "PYTHONPATH": str(TESTS)}
    command = [sys.executable, "-m", "pytest", "-p", "conftest", "-p", "no:cacheprovider"]
    return subprocess.run(
        [*command, "-q", "-rA", "--rootdir", str(tmp_path), str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=120,
    )


def test_skip_is_a_failure_when_e2e_is_required(tmp_path: Path) -> None:
    result = run_skipping_test(tmp_path, "1")
    assert result.returncode == 1, result.stdout
    assert "1 failed" in result.stdout
    assert "prerequisite missing" in result.stdout
    assert "ovsdb-server not running" in result.stdout


def test_skip_stays_a_skip_outside_ci(tmp_path: Path) -> None:
    result = run_skipping_test(tmp_path, "0")
    assert result.returncode == 0, result.stdout
    assert "1 skipped" in result.stdout
