"""``python -m bench.plug_ovs``: plug then unplug N taps into one private Open vSwitch
(userspace datapath) — vifbind's agent path (bindings from the watch, batched), ``Host.apply``
alone, ``os_vif.plug`` per VIF (native OVSDB and ``vsctl``) and the raw floor — in one run, on
the same OVS, one side after the other, the bridge checked empty between sides."""

from __future__ import annotations

import os
import secrets
import subprocess
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer

from bench.common.cli import Output, finish, run_command
from bench.common.figures import MIN_REPETITIONS, Figure, add
from bench.common.report import Report, Row, Target
from bench.plug import floor, osvif
from bench.plug.cli import Profile, Quick, Repetitions, Sides, execute, plan
from bench.plug.fleet import Fleet, fleet
from bench.plug.measure import Busy, rates
from bench.plug.sides import (
    VIFBIND_SIDES,
    measure_vifbind,
    profile_agent,
    settle,
    wait_until_gone,
)
from vifbind.host.host import Host
from vifbind.sandbox import Namespace, Ovs

BRIDGE = "br-int"
MTU = 1500
TARGET_N = 500
SIDES = ("vifbind agent", "vifbind Host.apply", "os-vif native", "os-vif vsctl", "floor")
ALL_SIDES = ",".join(SIDES)


@dataclass(frozen=True)
class Switch:
    """The host namespace and its Open vSwitch."""

    ns: Namespace
    ovs: Ovs

    def ports(self) -> set[str]:
        """Ports on the bridge."""
        return set(self.ovs.vsctl("list-ports", BRIDGE).split())

    def opened(self) -> dict[str, int]:
        """Every interface's ofport (-1: vswitchd could not open it)."""
        rows = self.ovs.vsctl(
            "--format=csv", "--no-headings", "--columns=name,ofport", "list", "Interface"
        )
        found = {}
        for line in rows.splitlines():
            name, ofport = line.split(",")
            found[name.strip('"')] = int(ofport) if ofport.lstrip("-").isdigit() else -1
        return found

    def devices(self) -> set[str]:
        """Devices of the host namespace."""
        lines = self.ns.ip("-o", "link", "show").splitlines()
        return {line.split(": ")[1].split("@")[0] for line in lines}

    def check_plugged(self, names: list[str], side: str) -> None:
        """Every name is a device and an OVS interface vswitchd opened."""
        opened, devices = self.opened(), self.devices()
        bad = [n for n in names if opened.get(n, -1) <= 0 or n not in devices]
        if bad:
            raise RuntimeError(f"{side}: {len(bad)} of {len(names)} not plugged, e.g. {bad[0]}")

    def wait_opened(self, names: list[str], timeout: float = 120) -> float:
        """Wait until vswitchd opened every port of ``names``; the monotonic time it had."""
        deadline = time.monotonic() + timeout
        while True:
            opened = self.opened()
            if all(opened.get(n, -1) > 0 for n in names):
                return time.monotonic()
            if time.monotonic() > deadline:
                return time.monotonic()  # check_plugged says which
            time.sleep(0.02)

    def left(self, names: list[str]) -> int:
        """How many of ``names`` are still a port or a device."""
        return len(set(names) & (self.ports() | self.devices()))

    def wait_gone(self, names: list[str]) -> float:
        """Wait until none of ``names`` is left and vswitchd applied the removal (as the
        floor's transaction and ``Host.unplug_many`` wait for it); the monotonic time then."""
        wait_until_gone(self, names)
        # A write makes ovs-vsctl wait until vswitchd applied everything before it.
        self.ovs.vsctl("--timeout=600", "set", "Open_vSwitch", ".",
                       f"external_ids:vifbind-bench={time.monotonic()}")  # fmt: skip
        return time.monotonic()


def _figures(side: str) -> list[Figure]:
    rss = [Figure("peak RSS", "MiB")] if side not in ("vifbind Host.apply", "floor") else []
    privsep = [Figure("privsep peak RSS", "MiB")] if side.startswith("os-vif") else []
    parts = [Figure("plug devices", "s", 2), Figure("plug OVSDB", "s", 2),
             Figure("unplug devices", "s", 2), Figure("unplug OVSDB", "s", 2)] \
        if side == "floor" else []  # fmt: skip
    return [
        Figure("plug", "s", 2),
        Figure("plug rate", "ports/s"),
        Figure("unplug", "s", 2),
        Figure("unplug rate", "ports/s"),
        *parts,
        *rss,
        *privsep,
        Figure("others' CPU", "cores", 2),
    ]


def measure_osvif(
    interface: str, switch: Switch, vifs: list[dict[str, str]], work: Path
) -> dict[str, float]:
    """One os-vif worker: plug every VIF, one ``os_vif.plug`` each, then unplug them."""
    job = {
        "remote": switch.ovs.remote, "bridge": BRIDGE, "interface": interface,
        "datapath_type": "netdev", "vifs": vifs, "workdir": str(work),
        "warmup_devname": f"tapw{secrets.token_hex(4)}",
    }  # fmt: skip
    worker = osvif.OsVifWorker(switch.ns.name, job, work / "os-vif.log")
    names = [v["devname"] for v in vifs]
    try:
        busy = Busy()
        started = time.monotonic()
        worker.phase("plug")
        # os-vif adds the port before it makes the tap: vswitchd opens the port only when it
        # next looks. Plugged means usable, as for vifbind: the time runs until it is.
        plugged = switch.wait_opened(names) - started
        switch.check_plugged(names, f"os-vif {interface}")
        unplugged = worker.phase("unplug")
        others = busy.others()
        rss, privsep = worker.finish()
    finally:
        worker.kill()
    if switch.left(names):
        raise RuntimeError(f"os-vif {interface} left {switch.left(names)} ports")
    return rates(len(vifs), plugged, unplugged) | {
        "peak RSS": rss, "privsep peak RSS": privsep, "others' CPU": others,
    }  # fmt: skip


def floor_job(switch: Switch, action: str, names: list[str]) -> dict[str, float]:
    """Run the raw floor inside the host namespace."""
    job = {"action": action, "names": names, "remote": switch.ovs.remote, "bridge": BRIDGE,
           "mtu": MTU}  # fmt: skip
    return floor.run_job(switch.ns.name, job)


def measure_floor(switch: Switch, names: list[str]) -> dict[str, float]:
    """The raw floor: one device loop and one OVSDB transaction each way."""
    busy = Busy()
    plug = floor_job(switch, "ovs-plug", names)
    switch.check_plugged(names, "floor")
    unplug = floor_job(switch, "ovs-unplug", names)
    if switch.left(names):
        raise RuntimeError(f"the floor left {switch.left(names)} ports")
    return rates(len(names), plug["total"], unplug["total"]) | {
        "plug devices": plug["devices"], "plug OVSDB": plug["ovsdb"],
        "unplug devices": unplug["devices"], "unplug OVSDB": unplug["ovsdb"],
        "others' CPU": busy.others(),
    }  # fmt: skip


def main(
    counts: Annotated[str, typer.Option(help="Numbers of VIFs, in order.")] = "100,500,2000",
    repetitions: Repetitions = MIN_REPETITIONS,
    sides: Sides = ALL_SIDES,
    quick: Quick = False,
    output: Output = None,
    profile: Profile = None,
) -> None:
    """Measure OVS plug throughput and append the figures to BENCHMARKS.md."""
    numbers, runs, chosen = plan(counts, repetitions, sides, SIDES, quick)
    report = Report(
        benchmark="plug_ovs",
        quick=quick,
        parameters={"N": ",".join(map(str, numbers)), "repetitions": str(runs),
                    "OVS": "private, userspace datapath (netdev)", "hypervisor": "kvm (taps)"},
    )  # fmt: skip

    def body(work: Path) -> None:
        if any(s.startswith("os-vif") for s in chosen):
            report.extra_versions |= osvif.ensure_installed()
        report.extra_versions["Open vSwitch"] = _ovs_version()
        run(numbers, runs, chosen, report, work, profile)

    execute(report, body)
    notes(report)
    judge(report, runs)
    finish(report, quick, output)


def run(
    numbers: list[int],
    runs: int,
    sides: list[str],
    report: Report,
    work: Path,
    profile: Path | None,
) -> None:
    """Every side at every N on one OVS in one host namespace."""
    with ExitStack() as stack:
        ns = Namespace.create(f"vbplug{os.getpid()}")
        stack.callback(ns.delete)
        ovs = Ovs(ns.name)
        stack.callback(ovs.stop)
        ovs.start()
        switch = Switch(ns, ovs)
        config = {"hypervisor": "kvm", "netns": ns.name, "ovsdb": ovs.remote,
                  "tunnels": {"vxlan": "198.51.100.1"},
                  "vhostuser_socket_dir": str(ovs.daemons.rundir)}  # fmt: skip
        network = {"type": "vxlan", "segmentation_id": 1001}
        the_fleet = stack.enter_context(fleet(work, config, "ovs", network))
        host = stack.enter_context(Host(the_fleet.config))
        for n in numbers:
            ports = the_fleet.ports(n, port_security=False)
            names = [("tap" + p)[:14] for p in ports]
            rows = {s: Row(labels={"side": s, "N": str(n)}, figures=_figures(s)) for s in sides}
            vifs: list[dict[str, str]] = []
            for side in sides:
                for _ in range(runs):
                    if side in VIFBIND_SIDES:
                        measured = measure_vifbind(side, the_fleet, host, switch, ports, names)
                    elif side.startswith("os-vif"):
                        if not vifs:
                            vifs = _vifs(the_fleet, ports, names)
                        measured = measure_osvif(side.split()[1], switch, vifs, work)
                    else:
                        measured = measure_floor(switch, names)
                    add(rows[side].figures, measured)
                    settle(switch, names, side)
            report.rows += rows.values()
            if profile is not None and n == max(numbers):
                profile.mkdir(parents=True, exist_ok=True)
                stacks = profile / f"plug_ovs-agent-{n}.txt"
                report.notes.append(profile_agent(the_fleet, switch, ports, names, stacks))


def _vifs(the_fleet: Fleet, ports: list[str], names: list[str]) -> list[dict[str, str]]:
    macs = {p.id: p.mac for p in the_fleet.api.list_ports(network_id=the_fleet.network_id)}
    return [{"port_id": p, "mac": macs[p], "devname": d} for p, d in zip(ports, names, strict=True)]


def _ovs_version() -> str:
    first = subprocess.run(
        ["ovs-vswitchd", "--version"], capture_output=True, text=True, check=True
    )
    return first.stdout.split()[-1]


def notes(report: Report) -> None:
    """How the sides were made comparable."""
    report.notes += [
        "vifbind agent: a `vifbind serve` (SQLite, ovs backend) holds the N ports; a `vifbind "
        "agent` process (kvm hypervisor: it creates each tap and adds it to OVS) is held with "
        "SIGSTOP while the N bindings are made, and timed from SIGCONT until the service has "
        "every port plugged (the agent reports plugged only once vswitchd opened the port); "
        "unplug: from SIGCONT after unbinding all until no tap and no OVS port is left and "
        "vswitchd applied the removal (an `ovs-vsctl` write waits for it). Peak RSS "
        "is the agent process's.",
        "vifbind Host.apply: the same bindings applied by `Host.apply` in the benchmark's "
        "process (no service, no watch), and removed by `Host.unplug_many`: the host's share.",
        "os-vif: a worker process in the os-vif virtualenv calls os_vif.plug/unplug once per "
        "VIF (VIFOpenVSwitch, datapath netdev, port profile create_port and create_tap): os-vif "
        "creates the tap itself (through its privsep daemon) as vifbind does, so both sides do "
        "the same work; libvirt is not involved. The privsep daemon and the OVSDB connection are "
        "started by one untimed warm-up VIF. os-vif adds each port before it creates the tap, "
        "so vswitchd opens some ports only later: its plug time runs until vswitchd has "
        "opened every port (as vifbind's does).",
        "floor: one pyroute2 loop creating (deleting) the taps, one `ovs-vsctl` transaction of "
        "N add-ports (del-ports) that waits until vswitchd applied it; unplug runs both "
        "concurrently, as the work allows.",
    ]


def judge(report: Report, runs: int) -> None:
    """Issue 7's plug targets, where this run has the figures."""

    def median(name: str, side: str) -> float | None:
        try:
            return report.figure(name, side=side, N=str(TARGET_N)).summary().median
        except KeyError:
            return None

    of = f"N={TARGET_N}, medians of {runs}"
    agent, host = median("plug", "vifbind agent"), median("plug", "vifbind Host.apply")
    if agent is not None and host is not None:
        report.notes.append(
            f"plug of {TARGET_N}, medians: the agent path took {agent:.2f} s, of which "
            f"Host.apply alone {host:.2f} s; the rest ({agent - host:.2f} s) is the watch's "
            f"answer and the agent's plugged reports (one request per 200 ports) to the service"
        )
    checks = [
        ("plug", "vifbind agent", 1.0, None, "plug into OVS <= 1.0 s (agent path)"),
        ("plug", "vifbind Host.apply", 1.0, None, "plug into OVS <= 1.0 s (Host.apply)"),
        ("plug", "vifbind agent", 1 / 10, "os-vif native", "plug >= 10 times os-vif native"),
        ("unplug", "vifbind agent", 1.3, "floor", "unplug within 1.3 times the raw floor"),
        ("unplug", "vifbind agent", 1 / 3, "os-vif native", "unplug >= 3 times os-vif native"),
        ("plug", "vifbind agent", 3.0, "floor", "plug within 3 times the lower bound"),
    ]
    for name, side, factor, reference, statement in checks:
        ours = median(name, side)
        theirs = 1.0 if reference is None else median(name, reference)
        if ours is None or theirs is None:
            continue
        versus = "" if reference is None else f" vs {reference} {theirs:.2f} s"
        report.targets.append(
            Target(
                statement=f"{statement} ({side}, {of})",
                met=ours <= factor * theirs,
                observed=f"{side} {ours:.2f} s{versus}",
            )
        )


if __name__ == "__main__":
    run_command(main)
