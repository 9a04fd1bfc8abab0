"""Bindings as the network service would send them to a test host."""

from __future__ import annotations

import uuid
from typing import Any

from vifbind.contract import Binding

NETWORK_ONLY = {"mac_spoofing": "network", "ip_spoofing": "network", "security_groups": "network"}
HOST_ANTISPOOF = {"mac_spoofing": "host", "ip_spoofing": "host", "security_groups": "off"}
HOST_ALL = {"mac_spoofing": "host", "ip_spoofing": "host", "security_groups": "host"}


def port_id() -> str:
    return str(uuid.uuid4())


def devname(port: str) -> str:
    return ("tap" + port)[:14]


def binding(
    host: str,
    vif: dict[str, Any],
    *,
    port: str,
    mac: str,
    ips: list[str],
    device_id: str = "",
    mtu: int = 1500,
    protections: dict[str, str] | None = None,
    network_id: str | None = None,
    segment: dict[str, Any] | None = None,
    pairs: list[dict[str, str]] | None = None,
) -> Binding:
    """A bound binding; every protection assigned to the host is enforced with nftables."""
    assigned = protections or NETWORK_ONLY
    return Binding.model_validate(
        {
            "port_id": port,
            "host": host,
            "status": "bound",
            "backend": "test",
            "vif": vif,
            "protections": assigned,
            "host_enforcement": {k: "nftables" for k, v in assigned.items() if v == "host"},
            "mac": mac,
            "mtu": mtu,
            "fixed_ips": ips,
            "allowed_address_pairs": pairs or [],
            "device_id": device_id,
            "network_id": network_id,
            "segment": segment,
        }
    )


def ovs_vif(port: str, *, hybrid: bool = False, bridge: str = "br-int") -> dict[str, Any]:
    return {
        "type": "ovs",
        "version": "1.1",
        "details": {
            "bridge": bridge,
            "interface_id": port,
            "devname": devname(port),
            "datapath_type": "netdev",
            "hybrid": hybrid,
        },
    }


def bridge_vif(port: str, bridge: str) -> dict[str, Any]:
    return {
        "type": "bridge",
        "version": "1.0",
        "details": {"bridge": bridge, "devname": devname(port)},
    }
