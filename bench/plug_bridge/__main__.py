"""``python -m bench.plug_bridge``: attach then detach N guest network namespaces to a Linux
bridge — vifbind (netns hypervisor, linuxbridge backend: the guest end is created inside the
namespace) through its agent and ``Host.apply`` alone, the CNI reference ``bridge`` plugin
(ADD/DEL per namespace, host-local IPAM) and the raw pyroute2 floor — in one run, one side
after the other, in one host namespace. The guest namespaces are made before anything is
timed and shared by every side."""

from __future__ import annotations

import json
import os
import random
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer

from bench.common.cli import Output, finish, run_command
from bench.common.figures import MIN_REPETITIONS, Figure, add
from bench.common.report import Report, Row, Target
from bench.plug import cni, floor
from bench.plug.cli import Profile, Quick, Repetitions, Sides, execute, plan
from bench.plug.fleet import fleet
from bench.plug.measure import Busy, rates
from bench.plug.sides import (
    VIFBIND_SIDES,
    measure_vifbind,
    profile_agent,
    settle,
    wait_until_gone,
)
from vifbind.host.host import Host
from vifbind.sandbox import Namespace

MTU = 1500
TARGET_N = 500
BRIDGE_PORTS_MAX = 1023
"""Ports of one Linux bridge: the kernel numbers them in 10 bits, 0 unused."""
MAX_GUESTS = BRIDGE_PORTS_MAX - 1
SIDES = ("vifbind agent", "vifbind Host.apply", "CNI bridge", "floor")
ALL_SIDES = ",".join(SIDES)
SPOT_CHECKS = 5


@dataclass
class Guests:
    """The host namespace and the guests' namespaces."""

    host: Namespace
    guests: list[Namespace]

    def veths(self) -> dict[str, str | None]:
        """The host's veth devices and the bridge each is on."""
        found: dict[str, str | None] = {}
        for device in json.loads(self.host.ip("-j", "link", "show", "type", "veth")):
            found[device["ifname"]] = device.get("master")
        return found

    def check_plugged(self, names: list[str], side: str) -> None:
        """``names`` (or, with no names, N veths) are enslaved; a few guests have eth0 up."""
        veths = self.veths()
        on_bridge = [n for n, master in veths.items() if master]
        wanted = len(self.guests)
        if len(on_bridge) != wanted or (names and set(names) - set(on_bridge)):
            raise RuntimeError(f"{side}: {len(on_bridge)} of {wanted} host ends on a bridge")
        for guest in random.sample(self.guests, min(SPOT_CHECKS, wanted)):
            eth0 = json.loads(guest.ip("-j", "link", "show", "eth0"))[0]
            if "UP" not in eth0["flags"]:
                raise RuntimeError(f"{side}: eth0 of {guest.name} is down")

    def left(self, names: list[str]) -> int:
        """How many veths are left in the host namespace."""
        return len(self.veths())

    def wait_gone(self, names: list[str]) -> float:
        """Wait until no veth is left; the monotonic time it was seen so."""
        return wait_until_gone(self, names)


def _figures() -> list[Figure]:
    return [
        Figure("plug", "s", 2),
        Figure("plug rate", "ports/s"),
        Figure("unplug", "s", 2),
        Figure("unplug rate", "ports/s"),
        Figure("others' CPU", "cores", 2),
    ]


def _peak_rss_figure() -> Figure:
    return Figure("peak RSS", "MiB")


def measure_cni(guests: Guests, work: Path, bridge: str) -> dict[str, float]:
    """ADD, then DEL, for every guest: one plugin process each time."""
    data_dir = work / "cni-ipam"
    netconf = cni.config(bridge, data_dir, MTU)
    names = [g.name for g in guests.guests]
    busy = Busy()
    plugged = cni.run_all(guests.host.name, "ADD", netconf, names)
    guests.check_plugged([], "CNI bridge")
    unplugged = cni.run_all(guests.host.name, "DEL", netconf, names)
    cni.clean(data_dir)
    if guests.left([]):
        raise RuntimeError(f"CNI DEL left {guests.left([])} veths")
    return rates(len(guests.guests), plugged, unplugged) | {"others' CPU": busy.others()}


def floor_job(guests: Guests, action: str, names: list[str], bridge: str) -> dict[str, float]:
    """Run the raw floor inside the host namespace."""
    job = {"action": action, "names": names, "guests": [g.name for g in guests.guests],
           "bridge": bridge, "mtu": MTU}  # fmt: skip
    return floor.run_job(guests.host.name, job)


def measure_floor(guests: Guests, names: list[str], bridge: str) -> dict[str, float]:
    """The raw floor: one pyroute2 loop each way."""
    busy = Busy()
    plug = floor_job(guests, "bridge-plug", names, bridge)
    guests.check_plugged(names, "floor")
    unplug = floor_job(guests, "bridge-unplug", names, bridge)
    if guests.left(names):
        raise RuntimeError(f"the floor left {guests.left(names)} veths")
    return rates(len(names), plug["total"], unplug["total"]) | {"others' CPU": busy.others()}


def main(
    counts: Annotated[str, typer.Option(help="Numbers of guests, in order.")] = "100,500,1000",
    repetitions: Repetitions = MIN_REPETITIONS,
    sides: Sides = ALL_SIDES,
    quick: Quick = False,
    output: Output = None,
    profile: Profile = None,
) -> None:
    """Measure Linux bridge plug throughput and append the figures to BENCHMARKS.md."""
    numbers, runs, chosen = plan(counts, repetitions, sides, SIDES, quick)
    if max(numbers) > MAX_GUESTS:
        raise typer.BadParameter(
            f"at most {MAX_GUESTS:,}: a Linux bridge holds at most {BRIDGE_PORTS_MAX:,} ports, "
            "and vifbind's also holds the network's VXLAN device",
            param_hint="--counts",
        )
    report = Report(
        benchmark="plug_bridge",
        quick=quick,
        parameters={"N": ",".join(map(str, numbers)), "repetitions": str(runs),
                    "hypervisor": "netns (veth, guest end in the guest's namespace)"},
    )  # fmt: skip

    def body(work: Path) -> None:
        if "CNI bridge" in chosen:
            report.extra_versions |= cni.ensure_installed()
        run(numbers, runs, chosen, report, work, profile)

    execute(report, body)
    notes(report)
    judge(report, runs)
    finish(report, quick, output)


def measure_peer(
    side: str, guests: Guests, names: list[str], work: Path, tag: str
) -> dict[str, float]:
    """One run of the CNI plugin (bridge ``<tag>c``, its own) or of the floor (``<tag>f``)."""
    if side == "CNI bridge":
        return measure_cni(guests, work, f"{tag}c")
    return measure_floor(guests, names, f"{tag}f")


def run(
    numbers: list[int],
    runs: int,
    sides: list[str],
    report: Report,
    work: Path,
    profile: Path | None,
) -> None:
    """Every side at every N in one host namespace, on guests made beforehand."""
    tag = f"vbbr{os.getpid()}"
    with ExitStack() as stack:
        host_ns = Namespace.create(tag)
        stack.callback(host_ns.delete)
        host_ns.ip("link", "add", f"{tag}f", "type", "bridge")
        host_ns.ip("link", "set", f"{tag}f", "up")
        config = {"hypervisor": "netns", "netns": host_ns.name, "ovsdb": "",
                  "tunnels": {"vxlan": "198.51.100.1"}}  # fmt: skip
        network = {"type": "vxlan", "segmentation_id": 1001}
        the_fleet = stack.enter_context(fleet(work, config, "linuxbridge", network))
        host = stack.enter_context(Host(the_fleet.config))
        for n in numbers:
            guests = Guests(host_ns, [])
            for i in range(n):
                guests.guests.append(Namespace.create(f"{tag}-{n}-{i}"))
                stack.callback(guests.guests[-1].delete)
            ports = []
            for guest in guests.guests:
                port = the_fleet.api.create_port(
                    the_fleet.network_id, port_security=False, device_id=guest.name
                )
                ports.append(port.id)
            names = [("tap" + p)[:14] for p in ports]
            rows = {}
            for side in sides:
                extra = [_peak_rss_figure()] if side == "vifbind agent" else []
                rows[side] = Row(labels={"side": side, "N": str(n)}, figures=_figures() + extra)
            for side in sides:
                for _ in range(runs):
                    if side in VIFBIND_SIDES:
                        measured = measure_vifbind(side, the_fleet, host, guests, ports, names)
                    else:
                        measured = measure_peer(side, guests, names, work, tag)
                    add(rows[side].figures, measured)
                    settle(guests, names, side)
            report.rows += rows.values()
            if profile is not None and n == max(numbers):
                profile.mkdir(parents=True, exist_ok=True)
                stacks = profile / f"plug_bridge-agent-{n}.txt"
                report.notes.append(profile_agent(the_fleet, guests, ports, names, stacks))
            for guest in guests.guests:
                guest.delete()


def notes(report: Report) -> None:
    """How the sides were made comparable."""
    report.notes += [
        "The guest namespaces are created before anything is timed and shared by every side; "
        "each side attaches one veth per guest (host end on a Linux bridge, guest end eth0 in "
        "the guest's namespace, up) and removes it.",
        "vifbind agent: a `vifbind serve` (SQLite, linuxbridge backend, one VXLAN network) "
        "holds the N ports (device_id: the guest's namespace, port security off); a `vifbind "
        "agent` process (netns hypervisor) is held with SIGSTOP while the N bindings are made "
        "and timed from SIGCONT until the service has every port plugged; unplug: from SIGCONT "
        "after unbinding all until no veth is left. vifbind also makes the network's bridge and "
        "VXLAN device, and removes them with the last port.",
        "vifbind Host.apply: the same bindings applied by `Host.apply` in the benchmark's "
        "process and removed by `Host.unplug_many`: the host's share.",
        "CNI bridge: Debian's containernetworking-plugins `bridge` plugin, one process per "
        "guest and command (CNI_COMMAND ADD/DEL, CNI_NETNS, CNI_IFNAME eth0, CNI_CONTAINERID, "
        "CNI_PATH, configuration on stdin, cniVersion 1.0.0, isGateway false, ipMasq false), "
        "host-local IPAM with a private data directory: it also allocates and sets an address "
        "in each guest, which vifbind leaves to the guest.",
        "floor: one pyroute2 loop creating each veth with its peer inside the guest's "
        "namespace, enslaving the host end and bringing both ends up (a netlink socket per "
        "guest); unplug: one loop deleting the host ends.",
        f"host-local hands out addresses from {cni.SUBNET}, the range reserved for "
        "benchmarking (RFC 2544); every side needs one namespace per guest.",
        f"N stops at {MAX_GUESTS:,}: the kernel gives a Linux bridge at most "
        f"{BRIDGE_PORTS_MAX:,} ports, and all of a side's guests are on one bridge (vifbind's "
        "network bridge also holds the VXLAN device).",
    ]


def judge(report: Report, runs: int) -> None:
    """Issue 7's bridge targets, where this run has the figures."""

    def median(side: str) -> float | None:
        try:
            return report.figure("plug", side=side, N=str(TARGET_N)).summary().median
        except KeyError:
            return None

    of = f"N={TARGET_N}, plug, medians of {runs}"
    for side in ("vifbind agent", "vifbind Host.apply"):
        ours, peer, floor = median(side), median("CNI bridge"), median("floor")
        if ours is not None and peer is not None:
            observed = f"{side} {ours:.2f} s vs CNI {peer:.2f} s"
            statement = f">= 5 times the CNI bridge plugin ({side}, {of})"
            report.targets.append(Target(statement, peer >= 5 * ours, observed))
        if ours is not None and floor is not None:
            observed = f"{side} {ours:.2f} s vs floor {floor:.2f} s"
            statement = f"within 1.5 times the pyroute2 floor ({side}, {of})"
            report.targets.append(Target(statement, ours <= 1.5 * floor, observed))


if __name__ == "__main__":
    run_command(main)
