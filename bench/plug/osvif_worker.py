"""Run by the os-vif virtualenv's Python (never imports vifbind): plug, then unplug, a list of
VIFs with ``os_vif.plug``/``os_vif.unplug`` one VIF at a time, as Nova does, and say how long
each took and what this process and its privsep daemon used.

Standard input: one JSON line (the job), then a line ``plug`` and a line ``unplug`` when the
parent wants each phase to start. Standard output: one JSON line per phase, and a last line
with the peak RSS of this process and of its privsep daemon.
"""

from __future__ import annotations

import json
import os
import sys
import time
import uuid
from pathlib import Path

import os_vif
from os_vif import objects
from oslo_config import cfg


def _peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _helpers(config: Path) -> list[int]:
    """The privsep daemons started for this process (their command line names its config)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if "privsep-helper" in cmdline and str(config) in cmdline:
            found.append(int(entry.name))
    return found


def main() -> None:
    job = json.loads(sys.stdin.readline())
    # The plugins read their options when os_vif.initialize() loads them: give them a file.
    helper = Path(sys.executable).with_name("privsep-helper")
    config = Path(job["workdir"]) / "os-vif.conf"
    config.write_text(
        f"[os_vif_ovs]\novsdb_connection = {job['remote']}\n"
        f"ovsdb_interface = {job['interface']}\n"
        f"[vif_plug_ovs_privileged]\nhelper_command = {helper} --config-file {config}\n"
    )
    cfg.CONF(["--config-file", str(config)], project="vifbind-bench")
    os_vif.initialize()

    instance = objects.instance_info.InstanceInfo(uuid=str(uuid.uuid4()), name="bench")
    network = objects.network.Network(id=str(uuid.uuid4()), bridge=job["bridge"])
    vifs = [
        objects.vif.VIFOpenVSwitch(
            id=v["port_id"],
            address=v["mac"],
            network=network,
            vif_name=v["devname"],
            plugin="ovs",
            has_traffic_filtering=True,
            preserve_on_delete=False,
            active=False,
            port_profile=objects.vif.VIFPortProfileOpenVSwitch(
                interface_id=v["port_id"],
                datapath_type=job["datapath_type"],
                create_port=True,
                create_tap=True,
            ),
        )
        for v in job["vifs"]
    ]
    # The privsep daemon and the OVSDB connection start on first use: one warm-up VIF, plugged
    # and unplugged before anything is timed.
    warm = objects.vif.VIFOpenVSwitch(
        id=str(uuid.uuid4()), address="fa:16:3e:ff:ff:fe", network=network,
        vif_name=job["warmup_devname"], plugin="ovs",
        port_profile=objects.vif.VIFPortProfileOpenVSwitch(
            interface_id=str(uuid.uuid4()), datapath_type=job["datapath_type"],
            create_port=True, create_tap=True,
        ),
    )  # fmt: skip
    os_vif.plug(warm, instance)
    os_vif.unplug(warm, instance)
    print(json.dumps({"ready": True}), flush=True)
    for phase, action in (("plug", os_vif.plug), ("unplug", os_vif.unplug)):
        if sys.stdin.readline().strip() != phase:
            raise SystemExit(f"expected {phase!r} from the parent")
        started = time.perf_counter()
        for vif in vifs:
            action(vif, instance)
        print(json.dumps({phase: time.perf_counter() - started}), flush=True)
    privsep = _helpers(config)
    print(
        json.dumps(
            {
                "peak_rss_mib": _peak_rss_mib(os.getpid()),
                "privsep_peak_rss_mib": sum(_peak_rss_mib(p) for p in privsep),
                "privsep_daemons": len(privsep),
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
