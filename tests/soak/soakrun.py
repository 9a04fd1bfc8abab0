"""What the soak commands share: the test helpers on the import path, a database of either
kind (PostgreSQL in a private cluster), ``vifbind serve`` processes, and the verdict line."""

from __future__ import annotations

import json
import secrets
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

TESTS = Path(__file__).resolve().parents[1]
# As pytest has them (pyproject's pythonpath), plus the service tests' helpers.
sys.path[:0] = [str(TESTS), str(TESTS / "service"), str(TESTS.parent)]

from harness import ServeProcess, postgres_cluster  # noqa: E402

DATABASES = ("sqlite", "postgresql")


@contextmanager
def workdir() -> Iterator[Path]:
    """A private directory for state and logs, removed after."""
    directory = Path(tempfile.mkdtemp(prefix="vifbind-soak-"))
    try:
        yield directory
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@contextmanager
def database(kind: str) -> Iterator[str | None]:
    """``None`` (the service's own SQLite file) or the URL of a fresh PostgreSQL database."""
    if kind == "sqlite":
        yield None
        return
    with postgres_cluster() as cluster:
        name = f"soak_{secrets.token_hex(4)}"
        cluster.psql(f"CREATE DATABASE {name}")
        yield cluster.url(name)


@contextmanager
def serve_processes() -> Iterator[list[ServeProcess]]:
    """Collects ``vifbind serve`` processes and kills whatever is left of them after."""
    started: list[ServeProcess] = []
    try:
        yield started
    finally:
        for process in started:
            process.stop(9)


def verdict(name: str, passed: bool, figures: dict[str, Any]) -> int:
    """Print the figures and the closing line; the exit status."""
    print(json.dumps(figures, indent=2))
    print(f"{name}: {int(passed)} passed, {int(not passed)} failed")
    return 0 if passed else 1
