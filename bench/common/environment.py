"""The machine a benchmark ran on and the versions it measured, as recorded with its figures."""

from __future__ import annotations

import os
import platform
import sqlite3
import subprocess
from importlib import metadata
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[2]

PYTHON_PACKAGES = ("pydantic", "fastapi", "starlette", "uvicorn", "sqlalchemy", "psycopg")
"""Versions recorded with every benchmark: what the service and the contract run on."""


def machine() -> dict[str, str]:
    """CPU model, cores, RAM, kernel and load average now (others may share the machine)."""
    return {
        "CPU": _cpu_model(),
        "cores": f"{os.cpu_count()} (usable by this process: {len(os.sched_getaffinity(0))})",
        "RAM": f"{_meminfo_kib('MemTotal') / 2**20:.1f} GiB",
        "kernel": f"{platform.system()} {platform.release()}",
        "load average": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def versions(extra: dict[str, str] | None = None) -> dict[str, str]:
    """vifbind's commit, Python, SQLite and the main Python packages, plus ``extra`` (e.g.
    PostgreSQL, Open vSwitch) from the benchmark."""
    found = {
        "vifbind": git_commit(),
        "Python": platform.python_version(),
        "SQLite": sqlite3.sqlite_version,
    }
    for package in PYTHON_PACKAGES:
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = "not installed"
    return found | (extra or {})


def git_commit() -> str:
    """The checked-out commit of this repository, marked ``+changes`` when tracked files
    differ from it (the figures then measure uncommitted code)."""
    commit = _git("rev-parse", "--short=12", "HEAD") or "unknown"
    dirty = _git("status", "--porcelain", "--untracked-files=no")
    return f"{commit}+changes" if dirty else commit


def program_version(*command: str) -> str:
    """The first line ``command`` prints (a ``--version`` call), or ``not installed``."""
    try:
        done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=30)
    except FileNotFoundError:
        return "not installed"
    lines = (done.stdout or done.stderr).strip().splitlines()
    return lines[0] if lines else "unknown"


def _git(*args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(REPOSITORY), *args], capture_output=True, text=True, check=False
    )
    return done.stdout.strip() if done.returncode == 0 else ""


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _meminfo_kib(key: str) -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith(f"{key}:"):
            return int(line.split()[1])
    raise RuntimeError(f"/proc/meminfo has no {key}")
