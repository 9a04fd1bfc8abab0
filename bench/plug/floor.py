"""The lower bound vifbind is compared with: the same devices made (or removed) in one raw
pyroute2 loop and the same OVS ports added (or removed) in one raw OVSDB transaction —
``ovs-vsctl`` with every command in one invocation, which waits until ovs-vswitchd applied it.

Run as ``python -m bench.plug.floor`` inside the host's namespace (the taps are made there):
one JSON job on standard input, one JSON line of timings (seconds) on standard output."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from socket import AF_NETLINK, SOCK_DGRAM
from typing import Any

from pyroute2 import IPRoute

from vifbind.host.namespaces import socket_in

NETLINK_ROUTE = 0


def vsctl(remote: str, commands: list[list[str]]) -> subprocess.Popen[str]:
    """One ``ovs-vsctl`` transaction of ``commands``, started."""
    argv = ["ovs-vsctl", "--timeout=600", f"--db={remote}"]
    for command in commands:
        argv += ["--", *command]
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def finish(process: subprocess.Popen[str]) -> None:
    """Wait for a started ``ovs-vsctl``; raise with its message when it failed."""
    _, errors = process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"ovs-vsctl: {errors.strip()}")


def ovs_plug(ipr: Any, job: dict[str, Any]) -> dict[str, float]:
    """Taps made and brought up in one loop, then added to the bridge in one transaction."""
    started = time.perf_counter()
    for name in job["names"]:
        ipr.link("add", ifname=name, kind="tuntap", mode="tap")
        ipr.link("set", ifname=name, state="up", mtu=job["mtu"])
    devices = time.perf_counter()
    finish(vsctl(job["remote"], [["add-port", job["bridge"], n] for n in job["names"]]))
    done = time.perf_counter()
    return {"total": done - started, "devices": devices - started, "ovsdb": done - devices}


def ovs_unplug(ipr: Any, job: dict[str, Any]) -> dict[str, float]:
    """One transaction removing every port, overlapped with one loop deleting the taps."""
    started = time.perf_counter()
    transaction = vsctl(job["remote"], [["del-port", job["bridge"], n] for n in job["names"]])
    for name in job["names"]:
        ipr.link("del", ifname=name)
    devices = time.perf_counter()
    finish(transaction)
    done = time.perf_counter()
    return {"total": done - started, "devices": devices - started, "ovsdb": done - started}


def bridge_plug(ipr: Any, job: dict[str, Any]) -> dict[str, float]:
    """Veth pairs, the guest end made inside each guest namespace, the host end enslaved to
    the bridge and up; the guest end up (a netlink socket opened in the guest's namespace by a
    thread that enters it, as vifbind does)."""
    started = time.perf_counter()
    master = ipr.link_lookup(ifname=job["bridge"])[0]
    for name, guest in zip(job["names"], job["guests"], strict=True):
        ipr.link(
            "add", ifname=name, kind="veth", mtu=job["mtu"],
            peer={"ifname": "eth0", "net_ns_fd": f"/run/netns/{guest}", "mtu": job["mtu"]},
        )  # fmt: skip
        ipr.link("set", ifname=name, master=master, state="up")
        socket = socket_in(Path(f"/run/netns/{guest}"), AF_NETLINK, SOCK_DGRAM, NETLINK_ROUTE)
        with IPRoute(fileno=socket.detach()) as inside:
            inside.link("set", ifname="eth0", state="up")
    done = time.perf_counter()
    return {"total": done - started, "devices": done - started}


def bridge_unplug(ipr: Any, job: dict[str, Any]) -> dict[str, float]:
    """The host ends deleted in one loop (their guest ends go with them)."""
    started = time.perf_counter()
    for name in job["names"]:
        ipr.link("del", ifname=name)
    done = time.perf_counter()
    return {"total": done - started, "devices": done - started}


def run_job(netns: str, job: dict[str, Any]) -> dict[str, float]:
    """Run one floor job inside ``netns`` (a process of its own); its timings."""
    done = subprocess.run(
        ["ip", "netns", "exec", netns, sys.executable, "-m", "bench.plug.floor"],
        input=json.dumps(job) + "\n", capture_output=True, text=True, check=False,
        cwd=Path(__file__).resolve().parents[2], timeout=1800,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"floor {job['action']}: {done.stderr.strip()[-2000:]}")
    timings: dict[str, float] = json.loads(done.stdout)
    return timings


ACTIONS = {
    "ovs-plug": ovs_plug,
    "ovs-unplug": ovs_unplug,
    "bridge-plug": bridge_plug,
    "bridge-unplug": bridge_unplug,
}


def main() -> None:
    """Read the job, do it, print the timings."""
    job = json.loads(sys.stdin.readline())
    with IPRoute() as ipr:
        print(json.dumps(ACTIONS[job["action"]](ipr, job)), flush=True)


if __name__ == "__main__":
    main()
