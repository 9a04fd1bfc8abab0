"""vifbind's two sides of a plug benchmark: the agent path (service, watch, agent process)
and ``Host.apply`` alone, on whatever host the benchmark built (``HostView`` checks it)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Protocol

from bench.common.process import Span
from bench.common.profile import RATE, by_package, hotspots, sampled, samples
from bench.plug.fleet import Fleet
from bench.plug.measure import Busy, rates
from vifbind.host.host import Host

VIFBIND_SIDES = ("vifbind agent", "vifbind Host.apply")


class HostView(Protocol):
    """How a benchmark sees whether its ports are really plugged, or gone."""

    def check_plugged(self, names: list[str], side: str) -> None:
        """Raise ``RuntimeError`` unless every port of ``names`` is plugged."""

    def left(self, names: list[str]) -> int:
        """How many of ``names`` still have something on the host."""

    def wait_gone(self, names: list[str]) -> float:
        """Wait until nothing of ``names`` is left; the monotonic time it was seen so."""


def measure_agent(
    fleet_: Fleet, switch: HostView, ports: list[str], names: list[str]
) -> dict[str, float]:
    """One plug and unplug of every port through the service and the agent's watch."""
    busy = Busy()
    span = Span(fleet_.agent.pid)
    with fleet_.held():
        since = fleet_.revision()
        fleet_.bind_all(ports)
        started = time.monotonic()
    plugged = fleet_.wait_plugged(ports, since) - started
    switch.check_plugged(names, "vifbind agent")
    with fleet_.held():
        fleet_.unbind_all(ports)
        started = time.monotonic()
    unplugged = switch.wait_gone(names) - started
    used = span.end()
    return rates(len(ports), plugged, unplugged) | {
        "peak RSS": used.peak_rss_mib, "others' CPU": busy.others(),
    }  # fmt: skip


def measure_host(
    host: Host, fleet_: Fleet, switch: HostView, ports: list[str], names: list[str]
) -> dict[str, float]:
    """``Host.apply`` of the same bindings in this process (the agent is stopped), then their
    removal: the host part alone, without the service."""
    bindings = fleet_.bind_all(ports)
    busy = Busy()
    started = time.perf_counter()
    results = host.apply(bindings)
    plugged = time.perf_counter() - started
    failed = [r for r in results if r.outcome != "plugged"]
    if failed:
        raise RuntimeError(
            f"Host.apply: {failed[0].port_id} {failed[0].outcome}: {failed[0].reason}"
        )
    switch.check_plugged(names, "Host.apply")
    started = time.perf_counter()
    results = host.unplug_many(ports)
    unplugged = time.perf_counter() - started
    fleet_.unbind_all(ports)
    if switch.left(names):
        raise RuntimeError(f"Host.unplug_many left {switch.left(names)} ports")
    return rates(len(ports), plugged, unplugged) | {"others' CPU": busy.others()}


def measure_vifbind(
    side: str, fleet_: Fleet, host: Host, view: HostView, ports: list[str], names: list[str]
) -> dict[str, float]:
    """One run of one of vifbind's sides (``Host.apply`` with the agent held meanwhile)."""
    if side == "vifbind agent":
        return measure_agent(fleet_, view, ports, names)
    with fleet_.held():
        return measure_host(host, fleet_, view, ports, names)


def wait_until_gone(view: HostView, names: list[str], timeout: float = 600) -> float:
    """Poll ``view`` until nothing of ``names`` is left; the monotonic time it was seen so."""
    deadline = time.monotonic() + timeout
    while view.left(names):
        if time.monotonic() > deadline:
            raise RuntimeError(f"{view.left(names)} ports still there after {timeout:g} s")
        time.sleep(0.05)
    return time.monotonic()


SETTLE_SECONDS = 10.0
QUIET_SECONDS = 1.0


def settle(view: HostView, names: list[str], side: str) -> None:
    """Between two runs nothing of ``names`` may be left on the host. A removal that the kernel
    or vswitchd finishes a moment after the side returned (seen on a loaded machine) is waited
    for, outside every timing, up to ``SETTLE_SECONDS``; what stays is the side's failure. The
    host must also stay clean for ``QUIET_SECONDS``: the agent, released after the
    ``Host.apply`` side, first acts on the watch answer it got while held (the run's first
    binding, since unbound) and undoes it a moment later."""
    deadline = time.monotonic() + SETTLE_SECONDS
    clean_since: float | None = None
    while True:
        now = time.monotonic()
        if not view.left(names):
            clean_since = now if clean_since is None else clean_since
            if now - clean_since >= QUIET_SECONDS:
                return
        else:
            clean_since = None
            if now > deadline:
                raise RuntimeError(f"{side}: {view.left(names)} of its ports still on the host")
        time.sleep(0.1)


ENTRY_POINTS = ("<module>", "(cli/", "Agent.run", "Agent.step")
"""Frames under which everything in the agent runs: not hot spots."""


def profile_agent(
    fleet_: Fleet, view: HostView, ports: list[str], names: list[str], stacks: Path
) -> str:
    """One extra, unrecorded plug and unplug of every port with the agent under py-spy; where
    its time went, as a sentence for the notes (the collapsed stacks go to ``stacks``)."""
    with sampled(fleet_.agent.pid, stacks):
        measured = measure_agent(fleet_, view, ports, names)
    held = samples(stacks) / (RATE * (measured["plug"] + measured["unplug"]))
    packages = ", ".join(f"{name} {share:.0%}" for name, share in by_package(stacks)[:6])
    found = hotspots(stacks, "vifbind", count=8, skip=ENTRY_POINTS)
    spots = ", ".join(f"{s.frame} {s.total_share:.0%}" for s in found)
    return (
        f"py-spy on the agent during one extra plug ({measured['plug']:.2f} s) and unplug "
        f"({measured['unplug']:.2f} s) of {len(ports)}: the GIL held {held:.0%} of that time; "
        f"the samples ({stacks.name}) by package of the innermost frame: {packages}; under "
        f"vifbind's functions: {spots}"
    )
