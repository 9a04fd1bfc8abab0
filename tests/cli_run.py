"""Running the ``vifbind`` command as a user does, and checking how it fails."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from builders import VIFBIND


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [VIFBIND, *args], capture_output=True, text=True, input=stdin, check=False, timeout=60
    )


def write(tmp_path: Path, name: str, data: Any) -> str:
    path = tmp_path / f"{name}.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return str(path)


def assert_one_line_error(result: subprocess.CompletedProcess[str], code: int, *words: str) -> None:
    assert result.returncode == code, result
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for word in words:
        assert word in lines[0], lines[0]
