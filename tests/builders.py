"""Small builders of contract objects for tests: valid defaults, overridable per test."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from vifbind.backends import registry
from vifbind.backends.base import Backend
from vifbind.contract import Binding, BindingProfile, HostReport, Network, Port
from vifbind.negotiate import negotiate

VIFBIND = str(Path(sys.executable).with_name("vifbind"))
"""The installed console script next to this interpreter, whatever PATH says."""

NETWORK_ID = "9b2e6c1a-4f3d-4e8a-9c71-0d5b8e2f6a13"
PORT_ID = "5f1c0a52-8d0e-4c6f-9a57-2b8f3c1d9e07"
XEN_POOL_A_NET = "0b9e3a6e-7d1c-4a55-8f2e-3c4d5e6f7a81"
XEN_POOL_B_NET = "7c41d2f0-1e5b-4b3a-9d6c-8e2f1a0b3c4d"
DVS_UUID = "50 1a 2b 3c 4d 5e 6f 70-81 92 a3 b4 c5 d6 e7 f8"
ALL_VIF_TYPES = {
    "ovs": ["1.0", "1.1"],
    "bridge": ["1.0"],
    "tap": ["1.0"],
    "vhostuser": ["1.0", "1.1"],
    "macvtap": ["1.0"],
    "802.1qbg": ["1.0"],
    "802.1qbh": ["1.0"],
    "hw_veb": ["1.0"],
    "hostdev_physical": ["1.0"],
}
NFT = {"mac_spoofing": ["nftables"], "ip_spoofing": ["nftables"], "security_groups": ["nftables"]}


def geneve(vni: int = 1001) -> dict[str, Any]:
    return {"type": "geneve", "segmentation_id": vni}


def vxlan(vni: int = 2001) -> dict[str, Any]:
    return {"type": "vxlan", "segmentation_id": vni}


def vlan(vid: int = 101, physnet: str = "physnet1") -> dict[str, Any]:
    return {"type": "vlan", "physnet": physnet, "segmentation_id": vid}


def flat(physnet: str = "physnet1") -> dict[str, Any]:
    return {"type": "flat", "physnet": physnet}


def network(*segments: dict[str, Any], mtu: int = 1500) -> Network:
    return Network.model_validate(
        {"id": NETWORK_ID, "name": "blue", "mtu": mtu, "segments": list(segments) or [geneve()]}
    )


def port(**overrides: Any) -> Port:
    data: dict[str, Any] = {
        "id": PORT_ID,
        "network_id": NETWORK_ID,
        "mac": "fa:16:3e:12:34:56",
        "fixed_ips": ["192.0.2.10"],
        "device_id": "vm-blue-1",
    }
    return Port.model_validate(data | overrides)


def host(name: str = "cmp-1", hypervisor: str = "kvm", **overrides: Any) -> HostReport:
    """A KVM host with OVS (system datapath), nftables for everything, geneve and vxlan."""
    data: dict[str, Any] = {
        "host": name,
        "hypervisor": hypervisor,
        "vif_types": ALL_VIF_TYPES,
        "enforcement": NFT,
        "physnets": {"physnet1": {"bridge": "br-phys1", "device": "eth1"}},
        "tunnels": {"geneve": "198.51.100.1", "vxlan": "198.51.100.1"},
        "ovs": {"bridge": "br-int", "datapath_type": "system", "iface_types": ["internal", "tap"]},
    }
    return HostReport.model_validate(data | overrides)


def bind(
    net: Network,
    prt: Port,
    hst: HostReport,
    backends: list[str] | None = None,
    profile: dict[str, Any] | None = None,
) -> Binding:
    chosen: list[Backend] = registry.load(backends)
    prof = BindingProfile.model_validate(profile) if profile is not None else None
    return negotiate(net, prt, hst, chosen, prof)


def reasons(binding: Binding, backend: str | None = None) -> str:
    """Every decision's reason (of one backend), one per line: what assertions search."""
    return "\n".join(
        f"{d.backend}/{d.vif_type}/{d.outcome}: {d.reason}"
        for d in binding.decisions
        if backend is None or d.backend == backend
    )
