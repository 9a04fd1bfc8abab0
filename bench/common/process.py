"""What a measured process uses — peak resident memory and CPU time — and what the rest of
the machine used meanwhile (others may run tests on it), read from /proc."""

from __future__ import annotations

import os
import resource
import time
from dataclasses import dataclass
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
RESET_PEAK_RSS = "5"  # proc(5), /proc/pid/clear_refs: reset the peak RSS to the current RSS


@dataclass(frozen=True)
class Usage:
    """A process's CPU seconds so far and its peak RSS since start or the last reset."""

    cpu_seconds: float
    peak_rss_bytes: int


def usage(pid: int) -> Usage:
    """CPU time (user + system, its own threads) and peak RSS (``VmHWM``) of ``pid``."""
    fields = _stat_fields(Path(f"/proc/{pid}/stat").read_text())
    utime, stime = int(fields[11]), int(fields[12])
    return Usage(cpu_seconds=(utime + stime) / CLOCK_TICKS, peak_rss_bytes=_peak_rss(pid))


def machine_busy_seconds() -> float:
    """CPU seconds all cores spent busy since boot (not idle, not waiting for I/O)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = values[:8]
    return (user + nice + system + irq + softirq + steal) / CLOCK_TICKS


def children_cpu_seconds() -> float:
    """CPU seconds used by this process's waited-for children (a load generator run with
    ``subprocess.run``)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return children.ru_utime + children.ru_stime


def reset_peak_rss(pid: int) -> None:
    """Start a new peak RSS measurement of ``pid`` from its current RSS (needs to own the
    process or root)."""
    Path(f"/proc/{pid}/clear_refs").write_text(RESET_PEAK_RSS)


def _stat_fields(stat: str) -> list[str]:
    """The fields of /proc/PID/stat after the command name (which may hold spaces): state,
    ppid, … utime at 11, stime 12, reaped children's cutime 13 and cstime 14."""
    return stat[stat.rindex(")") + 2 :].split()


def child_running(pid: int, script: str) -> int | None:
    """The child of ``pid`` whose command line names ``script`` (a helper process it started),
    or ``None``."""
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            try:
                argv = Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if any(arg.decode(errors="replace").endswith(script) for arg in argv):
                return int(child)
    return None


def _peak_rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            kib = int(line.split()[1])
            return kib * 1024
    raise RuntimeError(f"process {pid} reports no VmHWM (is it a kernel thread?)")


def tree_cpu_seconds(root: int) -> float:
    """CPU seconds of process ``root`` and its children so far (a database server and its
    backends): the living children's, and the root's own count of those it reaped."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = _stat_fields(stat.read_text())
        except OSError:  # the process exited while we looked
            continue
        utime, stime, reaped = int(fields[11]), int(fields[12]), int(fields[13]) + int(fields[14])
        if int(stat.parent.name) == root:
            total += utime + stime + reaped
        elif int(fields[1]) == root:
            total += utime + stime
    return total / CLOCK_TICKS


@dataclass(frozen=True)
class SpanUsage:
    """Average cores used over a span by the measured process, by its companion (a database
    server, when there is one), by the load generator (this process's children) and by
    everything else on the machine; the measured process's peak RSS in MiB."""

    cores: float
    companion_cores: float
    load_cores: float
    other_cores: float
    peak_rss_mib: float


class Span:
    """What one measured process (and its ``companion`` process tree), the load generator and
    the rest of the machine used over a span of time."""

    def __init__(self, pid: int, companion: int | None = None) -> None:
        self.pid = pid
        self.companion = companion
        reset_peak_rss(pid)
        self._start = time.monotonic()
        self._usage = usage(pid)
        self._companion = self._companion_seconds()
        self._children = children_cpu_seconds()
        self._busy = machine_busy_seconds()

    def end(self) -> SpanUsage:
        """The usage since the span was opened."""
        seconds = time.monotonic() - self._start
        now = usage(self.pid)
        measured = now.cpu_seconds - self._usage.cpu_seconds
        companion = self._companion_seconds() - self._companion
        load = children_cpu_seconds() - self._children
        busy = machine_busy_seconds() - self._busy
        return SpanUsage(
            cores=measured / seconds,
            companion_cores=companion / seconds,
            load_cores=load / seconds,
            other_cores=max(0.0, busy - measured - companion - load) / seconds,
            peak_rss_mib=now.peak_rss_bytes / 2**20,
        )

    def _companion_seconds(self) -> float:
        return tree_cpu_seconds(self.companion) if self.companion is not None else 0.0
