"""The data a service benchmark starts from: host reports, networks and ports, stored through
the service's own storage functions (the ones its API calls, same validation and MAC
allocation) in batched transactions, which takes seconds where 11,000 API calls take minutes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from vifbind.contract import HostReport
from vifbind.contract.api import NetworkCreate, PortCreate
from vifbind.service import auth, hosts, networks, ports
from vifbind.service.settings import ServiceSettings
from vifbind.service.storage.database import Database

BATCH = 500
PORTS_PER_NETWORK = 100


@dataclass(frozen=True)
class Dataset:
    """What was stored: the host names and port ids requests pick from, and a compute token
    (the role a VM manager binds with)."""

    hosts: list[str]
    ports: list[str]
    token: str

    def write_targets(self, path: Path) -> None:
        """One ``port <id>`` or ``host <name>`` per line: what the load script reads."""
        lines = [f"port {p}" for p in self.ports] + [f"host {h}" for h in self.hosts]
        path.write_text("\n".join(lines) + "\n")


def host_report(i: int) -> HostReport:
    """Host ``i``: KVM with Open vSwitch, nftables for every protection, ``physnet1`` and
    overlay endpoints; one host in five has a Linux bridge and no Open vSwitch."""
    name = f"cmp-{i:04d}"
    endpoint = f"2001:db8::{i + 1:x}"
    common = {
        "host": name,
        "hypervisor": "kvm",
        "cluster": f"rack-{i % 10}",
        "enforcement": {
            "mac_spoofing": ["nftables"],
            "ip_spoofing": ["nftables"],
            "security_groups": ["nftables"],
        },
        "tunnels": {"vxlan": endpoint, "geneve": endpoint},
        "agent_version": "0.1.0",
    }
    if i % 5 == 4:
        return HostReport.model_validate(
            common
            | {
                "vif_types": {"bridge": ["1.0"], "tap": ["1.0"]},
                "physnets": {"physnet1": {"bridge": "brq-phys1", "device": "eth1"}},
            }
        )
    return HostReport.model_validate(
        common
        | {
            "vif_types": {"ovs": ["1.0", "1.1"], "bridge": ["1.0"], "tap": ["1.0"]},
            "physnets": {"physnet1": {"bridge": "br-phys1", "device": "eth1"}},
            "ovs": {"bridge": "br-int", "datapath_type": "system", "iface_types": ["internal"]},
        }
    )


def network_request(i: int) -> NetworkCreate:
    """Network ``i``: half VXLAN, the rest VLANs on ``physnet1`` and a few flat networks."""
    if i % 10 < 5:
        segment = {"type": "vxlan", "segmentation_id": 1000 + i}
    elif i % 10 < 9:
        segment = {"type": "vlan", "physnet": "physnet1", "segmentation_id": 100 + i % 4000}
    else:
        segment = {"type": "flat", "physnet": "physnet1"}
    return NetworkCreate.model_validate({"name": f"bench-{i}", "segments": [segment]})


def port_request(network_id: str, i: int) -> PortCreate:
    """Port ``i`` of a network: one address, security groups, port security off on one in ten."""
    secured = i % 10 != 0
    return PortCreate.model_validate(
        {
            "network_id": network_id,
            "fixed_ips": [f"198.51.100.{i % PORTS_PER_NETWORK + 1}"],
            "port_security": secured,
            "security_groups": ["default"] if secured else [],
            "device_id": f"vm-{network_id[:8]}-{i}",
        }
    )


def seed(settings: ServiceSettings, db: Database, host_count: int, port_count: int) -> Dataset:
    """Store ``host_count`` reports and ``port_count`` ports (100 per network) and a compute
    token in ``db``, migrated already."""
    names = []
    for start in range(0, host_count, BATCH):
        with db.write() as tx:
            for i in range(start, min(start + BATCH, host_count)):
                names.append(hosts.store(tx, host_report(i)).host)
    network_count = -(-port_count // PORTS_PER_NETWORK)
    with db.write() as tx:
        network_ids = [networks.create(tx, network_request(i)).id for i in range(network_count)]
    port_ids = []
    for start in range(0, port_count, BATCH):
        with db.write() as tx:
            for i in range(start, min(start + BATCH, port_count)):
                request = port_request(network_ids[i // PORTS_PER_NETWORK], i)
                port_ids.append(ports.create(tx, request, settings.mac_prefix).id)
    with db.write() as tx:
        token, _ = auth.create_token(tx.session, "compute", None, "bench.service load", tx.now)
    return Dataset(hosts=names, ports=port_ids, token=token)
