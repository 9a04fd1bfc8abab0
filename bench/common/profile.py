"""Sampling a measured process with py-spy while it works, and where its time went."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

RATE = 250  # samples per second: enough for a 10 s run, light on a 2-core machine


@dataclass(frozen=True)
class Hotspot:
    """A function and its share of the samples: under it (total) and in it (self)."""

    frame: str
    total_share: float
    self_share: float


@contextmanager
def sampled(pid: int, output: Path, *, waits: bool = False) -> Iterator[None]:
    """Sample ``pid`` with py-spy while the block runs (without stopping it), only when one of
    its threads holds the GIL: where its one core of Python goes — or, with ``waits``, all the
    time, waits included (where a latency goes: subprocesses, sockets, sleeps). Collapsed stacks
    go to ``output`` (one ``frame;frame;… count`` per line)."""
    py_spy = shutil.which("py-spy", path=f"{Path(sys.executable).parent}:{os.defpath}")
    if py_spy is None:
        raise RuntimeError("py-spy is not installed: run scripts/setup.sh (the dev extra)")
    process = subprocess.Popen(
        [py_spy, "record", "--pid", str(pid), "--rate", str(RATE), "--nonblocking",
         *(["--idle"] if waits else ["--gil"]),
         "--full-filenames", "--format", "raw", "--output", str(output)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        yield
    finally:
        process.send_signal(signal.SIGINT)
        _, errors = process.communicate(timeout=60)
    if not output.exists():
        raise RuntimeError(f"py-spy wrote no profile: {errors.strip()}")


def samples(collapsed: Path) -> int:
    """How many samples were taken (at ``RATE`` a second while the GIL was held)."""
    return sum(n for _, n in _stacks(collapsed))


def by_package(collapsed: Path) -> list[tuple[str, float]]:
    """Where the samples were, by the package of the innermost frame (``python`` for the
    standard library), largest share first."""
    own: Counter[str] = Counter()
    for frames, n in _stacks(collapsed):
        own[_package(frames[-1])] += n
    total = sum(own.values()) or 1
    return [(package, n / total) for package, n in own.most_common()]


def hotspots(
    collapsed: Path, package: str, count: int = 10, skip: tuple[str, ...] = ()
) -> list[Hotspot]:
    """The ``count`` functions of ``package`` with the most samples under them, leaving out
    those whose name holds one of ``skip`` (entry points, under which everything runs)."""
    own: Counter[str] = Counter()
    under: Counter[str] = Counter()
    total = 0
    for frames, n in _stacks(collapsed):
        total += n
        own[_name(frames[-1])] += n
        names = {_name(f) for f in frames if _package(f) == package}
        for frame in {f for f in names if not any(s in f for s in skip)}:
            under[frame] += n
    return [
        Hotspot(frame=frame, total_share=n / total, self_share=own[frame] / total)
        for frame, n in under.most_common(count)
    ]


def main_thread(collapsed: Path) -> Path:
    """The samples of the process's main thread alone (its stacks start at the script's
    ``<module>``), written next to ``collapsed``: with waits sampled, the other threads'
    idle waits would say nothing about where the process's own time went."""
    kept = [line for line in collapsed.read_text().splitlines() if line.startswith("<module> (")]
    path = collapsed.with_name(f"{collapsed.stem}-main{collapsed.suffix}")
    path.write_text("\n".join(kept) + "\n")
    return path


def seconds(collapsed: Path) -> float:
    """The time the samples of ``collapsed`` cover, at ``RATE``."""
    return samples(collapsed) / RATE


def _stacks(collapsed: Path) -> Iterator[tuple[list[str], int]]:
    for line in collapsed.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        if stack and n.isdigit():
            yield stack.split(";"), int(n)


def _package(frame: str) -> str:
    """The top-level package a frame (``function (/full/path.py:line)``) is in."""
    where = frame.partition(" (")[2]
    if where.startswith("<"):
        # Code generated at run time names its origin: "<sqlalchemy generated …>".
        return where[1:].split(maxsplit=1)[0]
    parts = Path(where.rsplit(":", 1)[0]).parts
    if "site-packages" in parts:
        return parts[parts.index("site-packages") + 1]
    if "vifbind" in parts:
        return "vifbind"
    return "python"


def _is_stdlib(part: str) -> bool:
    return part.startswith("python3.") and part.removeprefix("python3.").isdigit()


def _name(frame: str) -> str:
    """``function (/…/vifbind/service/bindings.py:12)`` as ``function (service/bindings.py)``."""
    name, _, where = frame.partition(" (")
    parts = Path(where.rsplit(":", 1)[0]).parts
    roots = {"site-packages", "vifbind"}
    anchor = max((i for i, p in enumerate(parts) if p in roots or _is_stdlib(p)), default=-1)
    return f"{name} ({'/'.join(parts[anchor + 1 :])})"


def summary(collapsed: Path, skip: tuple[str, ...]) -> str:
    """The samples by package and under vifbind's busiest functions (``skip``: entry points),
    for a report's notes."""
    packages = ", ".join(f"{name} {share:.0%}" for name, share in by_package(collapsed)[:6])
    spots = ", ".join(
        f"{s.frame} {s.total_share:.0%}" for s in hotspots(collapsed, "vifbind", 8, skip)
    )
    return f"by package: {packages}; under vifbind's functions: {spots}"
