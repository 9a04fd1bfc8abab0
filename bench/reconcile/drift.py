"""Drift made behind the agent's back, with the host's own tools in a few batches: devices set
down, devices given a wrong MTU, port chains removed from nftables, OVS ports deleted — each
port gets one kind its plug has (a chain only where there are protections, an OVS port only on
Open vSwitch)."""

from __future__ import annotations

from bench.common.compute import Compute
from bench.reconcile.mix import Kind
from vifbind.host import Host, HostConfig
from vifbind.host.protections.nftables import Nftables
from vifbind.sandbox import run

WRONG_MTU = 1280


def inject(compute: Compute, ports: dict[str, Kind]) -> dict[str, int]:
    """Drift every port of ``ports`` one way, in turn; how many of each way."""
    config = HostConfig.model_validate(compute.config)
    with Host(config) as host:
        inventory = host.inventory()
    ip: list[str] = []
    chains = []
    ovs_ports: list[str] = []
    counts = {"device down": 0, "wrong MTU": 0, "chain missing": 0, "OVS port missing": 0}
    for port_id, kind in sorted(ports.items()):
        ways = ["device down", "wrong MTU"]
        if kind.port_security and port_id in inventory.chains:
            ways.append("chain missing")
        interfaces = inventory.port_interfaces(port_id)
        if interfaces:
            ways.append("OVS port missing")
        way = min(ways, key=lambda w: counts[w])  # each way in turn, where the port has it
        device = next(link.name for link in inventory.port_links(port_id) if link.kind != "bridge")
        if way == "device down":
            ip.append(f"link set dev {device} down")
        elif way == "wrong MTU":
            ip.append(f"link set dev {device} mtu {WRONG_MTU}")
        elif way == "chain missing":
            chains.append(inventory.chains[port_id])
        else:
            ovs_ports += [iface.name for iface in interfaces]
        counts[way] += 1
    if ip:
        script = compute.work / "drift.ip"
        script.write_text("\n".join(ip) + "\n")
        run("ip", "-n", compute.ns.name, "-batch", str(script))
    if chains:
        Nftables(config.netns_path(compute.ns.name)).remove(chains)
    if ovs_ports:
        compute.ovs.vsctl(*[a for name in ovs_ports for a in ("--", "del-port", name)])
    return counts
