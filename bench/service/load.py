"""The load generator: ``wrk`` (Debian's), in a process of its own, driving closed-loop clients
(each sends its next request when the answer came) through ``load.lua``.

wrk rather than a Python generator: the machine has two cores, and a Python client doing
thousands of HTTP requests a second needs a core of its own, which it would take from the
service; wrk's event loop in C spends a few percent of one. Its latency histogram is exact
(microseconds), and the Lua hook picks each request's port and host at random."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from bench.common.environment import program_version

SCRIPT = Path(__file__).with_name("load.lua")
MARKER = "vifbind-load "
TIMEOUT = "10s"


@dataclass(frozen=True)
class LoadResult:
    """What one wrk run saw: answers, errors (non-2xx, socket, timeouts), latency in ms."""

    requests: int
    seconds: float
    errors: int
    p50_ms: float
    p99_ms: float
    max_ms: float

    @property
    def per_second(self) -> float:
        """Successful answers per second."""
        return (self.requests - self.errors) / self.seconds


def wrk_path() -> str:
    """The wrk binary, or an error saying how to get it."""
    found = shutil.which("wrk")
    if found is None:
        raise RuntimeError("wrk is not installed: run scripts/setup.sh (Debian package wrk)")
    return found


def version() -> str:
    """wrk's version, as it prints it (``debian/4.1.0-3+b2 [epoll]``)."""
    first = program_version(wrk_path(), "--version")
    return first.removeprefix("wrk ").split(" Copyright")[0]


def run(url: str, targets: Path, mode: str, token: str, clients: int, seconds: float) -> LoadResult:
    """``clients`` concurrent connections sending ``mode`` requests for ``seconds``."""
    command = [
        wrk_path(),
        "--threads",
        "1",
        "--connections",
        str(clients),
        "--duration",
        f"{seconds:g}s",
        "--timeout",
        TIMEOUT,
        "--script",
        str(SCRIPT),
        url,
        "--",
        str(targets),
        mode,
        token,
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    lines = [line for line in done.stdout.splitlines() if line.startswith(MARKER)]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    data = json.loads(lines[-1].removeprefix(MARKER))
    errors = sum(data[k] for k in ("connect", "read", "write", "status", "timeout"))
    return LoadResult(
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        errors=errors,
        p50_ms=data["p50_us"] / 1e3,
        p99_ms=data["p99_us"] / 1e3,
        max_ms=data["max_us"] / 1e3,
    )
