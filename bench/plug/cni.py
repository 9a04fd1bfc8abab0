"""The CNI reference ``bridge`` plugin (Debian's containernetworking-plugins, installed here
when missing), invoked per the CNI spec: one process per container and command, parameters
in ``CNI_*`` variables, the network configuration on standard input, ``host-local`` IPAM with
a private data directory.

The plugin makes the bridge and the host ends in the namespace it runs in, so the loop of
invocations runs inside the host's namespace: ``python -m bench.plug.cni`` there, one JSON job
on standard input, the loop's seconds on standard output."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

CNI_PATH = Path("/usr/lib/cni")
PACKAGE = "containernetworking-plugins"
SUBNET = "198.18.0.0/15"
"""host-local hands addresses out of the range reserved for benchmarking network devices
(RFC 2544): no address the guests get belongs to anyone, and more guests fit than a Linux
bridge takes ports."""


def ensure_installed() -> dict[str, str]:
    """Install the plugins through apt when missing; answer their package version."""
    if not (CNI_PATH / "bridge").exists():
        env = os.environ | {"DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(
            ["apt-get", "install", "-y", "-q", PACKAGE], check=True, env=env,
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
    done = subprocess.run(
        ["dpkg-query", "-W", "-f", "${Version}", PACKAGE], capture_output=True, text=True,
        check=True,
    )  # fmt: skip
    return {PACKAGE: done.stdout.strip()}


def config(bridge: str, data_dir: Path, mtu: int) -> dict[str, Any]:
    """The network configuration: a bridge that is no gateway, addresses from host-local."""
    return {
        "cniVersion": "1.0.0",
        "name": bridge,
        "type": "bridge",
        "bridge": bridge,
        "isGateway": False,
        "ipMasq": False,
        "mtu": mtu,
        "ipam": {
            "type": "host-local",
            "ranges": [[{"subnet": SUBNET}]],
            "dataDir": str(data_dir),
        },
    }


def invoke(command: str, netconf: dict[str, Any], container: str, netns: str) -> None:
    """Run the plugin once (``ADD`` or ``DEL``) for one container's namespace."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "CNI_COMMAND": command,
        "CNI_CONTAINERID": container,
        "CNI_NETNS": f"/run/netns/{netns}",
        "CNI_IFNAME": "eth0",
        "CNI_PATH": str(CNI_PATH),
    }
    done = subprocess.run(
        [str(CNI_PATH / "bridge")], input=json.dumps(netconf), env=env, capture_output=True,
        text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"CNI bridge {command} {container}: {done.stdout or done.stderr}")


def clean(data_dir: Path) -> None:
    """Forget host-local's allocations (between runs)."""
    shutil.rmtree(data_dir, ignore_errors=True)


def run_all(host_ns: str, command: str, netconf: dict[str, Any], guests: list[str]) -> float:
    """Invoke the plugin for every guest, one after the other, inside ``host_ns``; the
    loop's seconds (the worker's own start is not counted)."""
    job = {"command": command, "netconf": netconf, "guests": guests}
    done = subprocess.run(
        ["ip", "netns", "exec", host_ns, sys.executable, "-m", "bench.plug.cni"],
        input=json.dumps(job), capture_output=True, text=True, check=False,
        cwd=Path(__file__).resolve().parents[2], timeout=1800,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"CNI {command}: {done.stderr.strip()[-2000:]}")
    seconds: float = json.loads(done.stdout)["seconds"]
    return seconds


def main() -> None:
    """The worker: read the job, run the loop, print its seconds."""
    job = json.loads(sys.stdin.read())
    started = time.perf_counter()
    for guest in job["guests"]:
        invoke(job["command"], job["netconf"], guest, guest)
    print(json.dumps({"seconds": time.perf_counter() - started}))


if __name__ == "__main__":
    main()
