"""Bindings of every VIF type, with the host attachment each is rendered for."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from vifbind.contract import Binding
from vifbind.render.attachment import HostAttachment

from builders import DVS_UUID, PORT_ID, XEN_POOL_A_NET

HOST_OFF = {"mac_spoofing": "off", "ip_spoofing": "off", "security_groups": "off"}
NETWORK = {"mac_spoofing": "network", "ip_spoofing": "network", "security_groups": "off"}


def on_host(mechanism: str, *names: str) -> dict[str, Any]:
    """Protections and host_enforcement assigning ``names`` to the host's ``mechanism``."""
    return {
        "protections": NETWORK | dict.fromkeys(names, "host"),
        "host_enforcement": dict.fromkeys(names, mechanism),
    }


def bound(vif_type: str, details: dict[str, Any], version: str = "1.0", **fields: Any) -> Binding:
    """A bound binding of the given VIF, protected by the network unless ``fields`` say so."""
    data: dict[str, Any] = {
        "port_id": PORT_ID,
        "host": "cmp-1",
        "status": "bound",
        "backend": "test",
        "vif": {"type": vif_type, "version": version, "details": details},
        "protections": NETWORK,
        "mac": "fa:16:3e:12:34:56",
        "mtu": 1442,
        "fixed_ips": ["192.0.2.10"],
        "device_id": "vm-blue-1",
    }
    return Binding.model_validate(data | fields)


def failed() -> Binding:
    """A failed binding, as negotiation returns it."""
    return Binding.model_validate(
        {
            "port_id": PORT_ID,
            "host": "cmp-1",
            "status": "failed",
            "mac": "fa:16:3e:12:34:56",
            "mtu": 1442,
            "decisions": [{"backend": "ovn", "outcome": "failed", "reason": "no OVS on cmp-1"}],
        }
    )


@dataclass(frozen=True)
class Case:
    """A binding and the host attachment it is rendered for."""

    binding: Binding
    attachment: HostAttachment = field(default_factory=HostAttachment)
    passthrough: bool = False


OVS = {"bridge": "br-int", "interface_id": PORT_ID, "devname": "tap5f1c0a52-8d"}
PAIRS = [{"ip": "192.0.2.50"}, {"mac": "fa:16:3e:aa:bb:cc", "ip": "192.0.2.51"}]

LIBVIRT_CASES: dict[str, Case] = {
    "ovs-agent-tap": Case(bound("ovs", OVS | {"datapath_type": "netdev"}, "1.1")),
    "ovs-libvirt-port": Case(
        bound("ovs", OVS | {"datapath_type": "system"}, "1.1"),
        HostAttachment(tap_created_by="hypervisor"),
    ),
    "ovs-1.0": Case(bound("ovs", OVS)),
    "ovs-hybrid": Case(
        bound("ovs", OVS | {"hybrid": True}, "1.1", **on_host("nftables", "mac_spoofing"))
    ),
    "bridge": Case(bound("bridge", {"bridge": "brq9b2e6c1a-4f", "devname": "tap5f1c0a52-8d"})),
    "bridge-nwfilter": Case(
        bound(
            "bridge",
            {"bridge": "brq9b2e6c1a-4f", "devname": "tap5f1c0a52-8d"},
            allowed_address_pairs=PAIRS,
            **on_host("nwfilter", "mac_spoofing", "ip_spoofing"),
        )
    ),
    "tap-agent": Case(bound("tap", {"devname": "tap5f1c0a52-8d"})),
    "tap-libvirt-mac-filter": Case(
        bound("tap", {"devname": "tap5f1c0a52-8d"}, **on_host("nwfilter", "mac_spoofing")),
        HostAttachment(tap_created_by="hypervisor"),
    ),
    "vhostuser-1.0": Case(
        bound(
            "vhostuser",
            {"socket_path": "/var/run/openvswitch/vhu5f1c0a52-8d", "mode": "server"},
            protections=HOST_OFF,
        )
    ),
    "vhostuser-queues": Case(
        bound(
            "vhostuser",
            {
                "socket_path": "/var/run/openvswitch/vhu5f1c0a52-8d",
                "mode": "client",
                "ovs_bridge": "br-int",
                "queues": 4,
            },
            "1.1",
        )
    ),
    "macvtap": Case(bound("macvtap", {"parent": "eth2.101", "mode": "bridge"})),
    "802.1qbg": Case(
        bound(
            "802.1qbg",
            {
                "parent": "eth2.101",
                "manager_id": 12,
                "type_id": 4242,
                "type_id_version": 1,
                "instance_id": PORT_ID,
            },
        )
    ),
    "802.1qbh": Case(bound("802.1qbh", {"parent": "eth3", "profile_id": "web-tier"})),
    "hw_veb-hostdev": Case(
        bound(
            "hw_veb",
            {"pci_address": "0000:81:10.2", "physnet": "sriovnet", "vlan": 300},
            protections=HOST_OFF | {"mac_spoofing": "host"},
            host_enforcement={"mac_spoofing": "vf-spoofchk"},
        ),
        passthrough=True,
    ),
    "hw_veb-direct": Case(
        bound(
            "hw_veb",
            {
                "pci_address": "0000:81:10.3",
                "physnet": "sriovnet",
                "vlan": 301,
                "attach": "direct",
            },
        ),
        HostAttachment(vf_netdev="ens1f0v3"),
    ),
    "hostdev_physical": Case(
        bound("hostdev_physical", {"pci_address": "0000:82:00.0"}, protections=HOST_OFF),
        passthrough=True,
    ),
}
"""One case per VIF type libvirt renders, and per way of attaching it."""

XEN = bound("xen", {"network_uuid": XEN_POOL_A_NET})
VMWARE_DVS = bound("vmware", {"dvs_uuid": DVS_UUID, "portgroup_key": "dvportgroup-44"})
VMWARE_STANDARD = bound("vmware", {"network_name": "VM Network 101"})
HYPERV = bound("hyperv", {"vswitch": "External Switch", "vlan": 101})
