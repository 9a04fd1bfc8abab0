"""The seed thread, replayed: every question it leaves open, answered by ``negotiate``."""

from __future__ import annotations

from typing import Any

import pytest

from vifbind.contract import Binding
from vifbind.errors import InvalidInput

from builders import (
    DVS_UUID,
    NETWORK_ID,
    PORT_ID,
    XEN_POOL_A_NET,
    XEN_POOL_B_NET,
    bind,
    flat,
    geneve,
    host,
    network,
    port,
    reasons,
    vlan,
    vxlan,
)

NO_ENFORCEMENT: dict[str, list[str]] = {
    "mac_spoofing": [],
    "ip_spoofing": [],
    "security_groups": [],
}


def details(binding: Binding) -> dict[str, Any]:
    assert binding.vif is not None, reasons(binding)
    dumped: dict[str, Any] = binding.vif.model_dump(mode="json")["details"]
    return dumped


def chosen(binding: Binding) -> tuple[str | None, str | None, str | None]:
    vif = binding.vif
    return binding.backend, vif.type if vif else None, vif.version if vif else None


# --- version skew: a newer service, an older host ------------------------------------------


def test_old_host_gets_a_backported_vif() -> None:
    old = host("cmp-old", vif_types={"ovs": ["1.0"], "bridge": ["1.0"]})
    binding = bind(network(geneve()), port(), old)
    assert chosen(binding) == ("ovn", "ovs", "1.0")
    assert "datapath_type" not in details(binding)
    assert "backported from 1.1" in reasons(binding, "ovn")


def test_old_host_never_gets_a_version_it_cannot_read() -> None:
    """datapath_type=netdev has no 1.0 form: the next candidate (linuxbridge) serves instead."""
    old = host(
        "cmp-old",
        vif_types={"ovs": ["1.0"], "bridge": ["1.0"]},
        ovs={"bridge": "br-int", "datapath_type": "netdev"},
    )
    binding = bind(network(vxlan()), port(), old, ["ovn", "ovs", "linuxbridge"])
    assert chosen(binding) == ("linuxbridge", "bridge", "1.0")
    skipped = reasons(binding, "ovs")
    assert "host cmp-old understands ovs 1.0; ovs 1.1 cannot be expressed as 1.0" in skipped
    assert "datapath_type='netdev'" in skipped


def test_host_that_does_not_know_a_type_is_never_offered_it() -> None:
    dpdk = host(
        "cmp-dpdk",
        vif_types={"ovs": ["1.0", "1.1"]},
        ovs={"bridge": "br-int", "datapath_type": "netdev", "iface_types": ["dpdkvhostuserclient"]},
    )
    binding = bind(network(geneve()), port(), dpdk)
    assert chosen(binding) == ("ovn", "ovs", "1.1")
    assert "does not understand VIF type vhostuser" in reasons(binding, "ovn")


def test_dpdk_host_gets_vhostuser_and_an_old_one_single_queue_1_0() -> None:
    dpdk_ovs = {
        "bridge": "br-int",
        "datapath_type": "netdev",
        "iface_types": ["dpdkvhostuserclient"],
    }
    new = bind(network(geneve()), port(), host("cmp-dpdk", ovs=dpdk_ovs))
    assert chosen(new) == ("ovn", "vhostuser", "1.1")
    assert details(new)["socket_path"] == "/var/run/openvswitch/vhu5f1c0a52-8d"
    assert details(new)["mode"] == "server"
    old = host("cmp-dpdk-old", ovs=dpdk_ovs, vif_types={"vhostuser": ["1.0"], "ovs": ["1.0"]})
    assert chosen(bind(network(geneve()), port(), old)) == ("ovn", "vhostuser", "1.0")


def test_host_newer_than_the_service_gets_the_newest_version_both_know() -> None:
    newer = host("cmp-new", vif_types={"ovs": ["1.0", "1.1", "1.7"], "qbx": ["1.0"]})
    assert chosen(bind(network(geneve()), port(), newer)) == ("ovn", "ovs", "1.1")


def test_host_knowing_only_unknown_versions_is_told_why() -> None:
    future = host("cmp-future", vif_types={"ovs": ["2.0"]})
    binding = bind(network(geneve()), port(), future, ["ovn"])
    assert binding.status == "failed"
    assert "understands ovs 2.0 only; this service writes ovs 1.0-1.1" in reasons(binding)


# --- heterogeneous hosts: one port, a different VIF per host -------------------------------

KVM_OVS = host("kvm-1")
XEN_POOL_A = host(
    "xs-a-1",
    hypervisor="xen",
    cluster="pool-a",
    vif_types={"xen": ["1.0"]},
    enforcement={"mac_spoofing": ["xen-vif-locking"], "ip_spoofing": ["xen-vif-locking"]},
    platform={"xen_networks": {"physnet1:101": XEN_POOL_A_NET}},
)
XEN_POOL_B = host(
    "xs-b-1",
    hypervisor="xen",
    cluster="pool-b",
    vif_types={"xen": ["1.0"]},
    enforcement={"mac_spoofing": ["xen-vif-locking"], "ip_spoofing": ["xen-vif-locking"]},
    platform={"xen_networks": {"physnet1:101": XEN_POOL_B_NET}},
)
VMWARE = host(
    "esx-1",
    hypervisor="vmware",
    cluster="vc-east",
    vif_types={"vmware": ["1.0"]},
    enforcement={"mac_spoofing": ["vmware-security-policy"], "ip_spoofing": ["nsx-spoofguard"]},
    platform={"vmware": {"dvs_uuid": DVS_UUID, "portgroups": {"physnet1:101": "dvportgroup-44"}}},
)
HYPERV = host(
    "hv-1",
    hypervisor="hyperv",
    vif_types={"hyperv": ["1.0"]},
    enforcement={"mac_spoofing": ["hyperv-port-acl"], "ip_spoofing": ["hyperv-port-acl"]},
    platform={"hyperv_vswitches": {"physnet1": "External Switch"}},
)


@pytest.mark.parametrize(
    ("report", "expected_backend", "expected_type", "expected_details"),
    [
        (KVM_OVS, "ovn", "ovs", {"bridge": "br-int", "interface_id": PORT_ID, "hybrid": False}),
        (XEN_POOL_A, "xen", "xen", {"network_uuid": XEN_POOL_A_NET}),
        (XEN_POOL_B, "xen", "xen", {"network_uuid": XEN_POOL_B_NET}),
        (VMWARE, "vmware", "vmware", {"dvs_uuid": DVS_UUID, "portgroup_key": "dvportgroup-44"}),
        (HYPERV, "hyperv", "hyperv", {"vswitch": "External Switch", "vlan": 101}),
    ],
    ids=["kvm-ovs", "xen-pool-a", "xen-pool-b", "vmware", "hyperv"],
)
def test_same_port_different_vif_per_host(
    report: Any, expected_backend: str, expected_type: str, expected_details: dict[str, Any]
) -> None:
    binding = bind(network(vlan(101)), port(), report)
    assert binding.status == "bound", reasons(binding)
    assert (binding.backend, binding.vif and binding.vif.type) == (expected_backend, expected_type)
    assert details(binding).items() >= expected_details.items()
    assert binding.segment is not None and binding.segment.segmentation_id == 101
    assert binding.protections is not None
    assert binding.protections.mac_spoofing in ("network", "host")


def test_platform_mechanisms_take_the_host_side_duties() -> None:
    xen = bind(network(vlan(101)), port(), XEN_POOL_A)
    assert xen.protections is not None and xen.protections.ip_spoofing == "host"
    assert xen.host_enforcement.ip_spoofing == "xen-vif-locking"
    esx = bind(network(vlan(101)), port(), VMWARE)
    assert esx.host_enforcement.mac_spoofing == "vmware-security-policy"
    assert esx.host_enforcement.ip_spoofing == "nsx-spoofguard"


def test_vlan_segment_never_falls_back_to_the_untagged_platform_network() -> None:
    untagged_only = host(
        "xs-c-1",
        hypervisor="xen",
        cluster="pool-c",
        vif_types={"xen": ["1.0"]},
        enforcement=XEN_POOL_A.enforcement.model_dump(),
        platform={"xen_networks": {"physnet1": XEN_POOL_A_NET}},
    )
    binding = bind(network(vlan(101)), port(), untagged_only)
    assert binding.status == "failed"
    assert "cluster pool-c) has no XenServer network for physnet1:101" in reasons(binding, "xen")
    flat_binding = bind(network(flat()), port(), untagged_only)
    assert details(flat_binding) == {"network_uuid": XEN_POOL_A_NET}


def test_vmware_standard_port_group() -> None:
    standard = host(
        "esx-2",
        hypervisor="vmware",
        vif_types={"vmware": ["1.0"]},
        enforcement=VMWARE.enforcement.model_dump(),
        platform={"vmware": {"networks": {"physnet1": "VM Network"}}},
    )
    assert details(bind(network(flat()), port(), standard)) == {
        "dvs_uuid": None,
        "portgroup_key": None,
        "network_name": "VM Network",
    }


def test_multi_segment_network_uses_the_segment_each_host_reaches() -> None:
    net = network(vlan(101, "physnet9"), geneve(3003))
    assert bind(net, port(), KVM_OVS).segment == net.segments[1]
    binding = bind(net, port(), HYPERV)
    assert binding.status == "failed"
    assert "vlan 101 on physnet9: host hv-1 has no Hyper-V virtual switch for physnet physnet9" in (
        reasons(binding, "hyperv")
    )
    assert "geneve 3003: hyperv carries flat, vlan only" in reasons(binding, "hyperv")


# --- SR-IOV on some hosts only -------------------------------------------------------------

SRIOV_PHYSNETS = {"sriovnet": {"device": "ens1f0", "free_vfs": 6}}
VF = {"pci_address": "0000:81:10.2"}


def test_direct_port_on_an_sriov_host() -> None:
    sriov = host("cmp-sriov", physnets=SRIOV_PHYSNETS)
    direct = port(vnic_type="direct", port_security=False)
    binding = bind(network(vlan(300, "sriovnet")), direct, sriov, profile=VF)
    assert chosen(binding) == ("sriov", "hw_veb", "1.0")
    assert details(binding) == {
        "pci_address": "0000:81:10.2",
        "physnet": "sriovnet",
        "vlan": 300,
        "attach": "hostdev",
    }


def test_direct_port_on_a_host_without_sriov_fails_with_the_reason() -> None:
    direct = port(vnic_type="direct", port_security=False)
    binding = bind(network(vlan(300, "sriovnet")), direct, host("cmp-plain"), profile=VF)
    assert binding.status == "failed"
    assert binding.vif is None
    assert "physnet sriovnet is not mapped on host cmp-plain (physnets: physnet1)" in reasons(
        binding, "sriov"
    )
    assert "port wants vnic_type direct; ovn serves normal, vhost" in reasons(binding, "ovn")


def test_sriov_host_with_no_free_vf_and_missing_claim() -> None:
    full = host("cmp-full", physnets={"sriovnet": {"device": "ens1f0", "free_vfs": 0}})
    direct = port(vnic_type="direct", port_security=False)
    binding = bind(network(vlan(300, "sriovnet")), direct, full, profile=VF)
    assert "has no free VF (device ens1f0, free_vfs 0)" in reasons(binding, "sriov")
    unclaimed = bind(network(vlan(300, "sriovnet")), direct, host("x", physnets=SRIOV_PHYSNETS))
    assert "profile has no pci_address" in reasons(unclaimed, "sriov")
    wrong = bind(
        network(vlan(300, "sriovnet")),
        direct,
        host("x", physnets=SRIOV_PHYSNETS),
        profile=VF | {"physnet": "physnet1"},
    )
    assert "the claimed device is on physnet physnet1" in reasons(wrong, "sriov")


def test_sriov_with_port_security_uses_the_attachment_the_host_can_filter() -> None:
    """A VF in PCI passthrough can only have its MAC checked; macvtap on the VF can be filtered
    by nftables, so that candidate is chosen instead of leaving IP spoofing unguarded."""
    enforcement = {"mac_spoofing": ["vf-spoofchk", "nftables"], "ip_spoofing": ["nftables"]}
    sriov = host("cmp-sriov", physnets=SRIOV_PHYSNETS, enforcement=enforcement)
    binding = bind(network(vlan(300, "sriovnet")), port(vnic_type="direct"), sriov, profile=VF)
    assert details(binding)["attach"] == "direct"
    assert binding.host_enforcement.mac_spoofing == "vf-spoofchk"
    assert binding.host_enforcement.ip_spoofing == "nftables"
    assert "ip_spoofing must be enforced by the host" in reasons(binding, "sriov")


def test_direct_physical_needs_port_security_off() -> None:
    sriov = host("cmp-sriov", physnets=SRIOV_PHYSNETS)
    pf = {"pci_address": "0000:81:00.0"}
    secured = bind(network(flat("sriovnet")), port(vnic_type="direct-physical"), sriov, profile=pf)
    assert secured.status == "failed"
    assert "usable on this attachment: none" in reasons(secured, "sriov")
    open_port = port(vnic_type="direct-physical", port_security=False)
    binding = bind(network(flat("sriovnet")), open_port, sriov, profile=pf)
    assert chosen(binding) == ("sriov", "hostdev_physical", "1.0")


# --- protections: explicit, never silently off ---------------------------------------------


def test_filtering_backend_needs_nothing_from_the_host() -> None:
    binding = bind(
        network(geneve()), port(security_groups=["web"]), host(enforcement=NO_ENFORCEMENT)
    )
    assert binding.backend == "ovn"
    assert binding.protections is not None
    assert binding.protections.model_dump() == {
        "mac_spoofing": "network",
        "ip_spoofing": "network",
        "security_groups": "network",
    }


def test_non_filtering_backend_with_a_host_that_can_filter() -> None:
    binding = bind(network(vxlan()), port(security_groups=["web"]), host(), ["linuxbridge"])
    assert chosen(binding) == ("linuxbridge", "bridge", "1.0")
    assert binding.protections is not None
    assert binding.protections.model_dump() == {
        "mac_spoofing": "host",
        "ip_spoofing": "host",
        "security_groups": "host",
    }
    assert binding.host_enforcement.model_dump() == {
        "mac_spoofing": "nftables",
        "ip_spoofing": "nftables",
        "security_groups": "nftables",
    }
    assert details(binding) == {"bridge": "brq9b2e6c1a-4f", "devname": "tap5f1c0a52-8d"}


def test_non_filtering_backend_with_a_host_that_cannot_filter_is_skipped() -> None:
    binding = bind(network(vxlan()), port(), host(enforcement=NO_ENFORCEMENT), ["linuxbridge"])
    assert binding.status == "failed"
    assert (
        "mac_spoofing must be enforced by the host (linuxbridge does not enforce it), but host "
        "cmp-1 has no mechanism for it that acts on bridge 1.0" in reasons(binding)
    )


def test_ovs_backend_filters_on_the_host_through_the_hybrid_plug() -> None:
    binding = bind(network(vxlan()), port(), host(), ["ovs"])
    assert details(binding)["hybrid"] is True
    assert binding.host_enforcement.mac_spoofing == "nftables"


def test_host_mechanism_that_cannot_act_on_the_attachment_is_not_believed() -> None:
    """nwfilter cannot act on an OVS hybrid plug; vf-spoofchk cannot enforce IP spoofing."""
    liar = host(enforcement={"mac_spoofing": ["nwfilter"], "ip_spoofing": ["vf-spoofchk"]})
    binding = bind(network(vxlan()), port(), liar, ["ovs"])
    assert binding.status == "failed"
    assert "usable on this attachment: iptables, nftables" in reasons(binding)


def test_port_security_off_turns_everything_off_and_drops_the_hybrid_bridge() -> None:
    binding = bind(
        network(vxlan()), port(port_security=False), host(enforcement=NO_ENFORCEMENT), ["ovs"]
    )
    assert binding.protections is not None
    assert set(binding.protections.model_dump().values()) == {"off"}
    assert details(binding)["hybrid"] is False


def test_security_groups_duty_is_off_without_groups() -> None:
    binding = bind(network(vxlan()), port(), host(), ["linuxbridge"])
    assert binding.protections is not None
    assert binding.protections.security_groups == "off"
    assert binding.host_enforcement.security_groups is None


def test_switch_port_profile_enforces_what_the_host_says_it_does() -> None:
    qbg = {
        "manager_id": 12,
        "type_id": 4242,
        "type_id_version": 1,
        "enforces": ["mac_spoofing", "ip_spoofing"],
    }
    vepa = host(
        "cmp-vepa",
        physnets={"physnet1": {"device": "eth2", "dot1qbg": qbg}},
        enforcement=NO_ENFORCEMENT,
    )
    binding = bind(network(vlan(101)), port(vnic_type="macvtap"), vepa)
    assert chosen(binding) == ("macvtap", "802.1qbg", "1.0")
    assert details(binding) == {
        "parent": "eth2.101",
        "manager_id": 12,
        "type_id": 4242,
        "type_id_version": 1,
        "instance_id": PORT_ID,
    }
    assert binding.protections is not None
    assert binding.protections.ip_spoofing == "network"
    assert "macvtap/macvtap/skipped: mac_spoofing must be enforced by the host" in reasons(binding)


def test_derived_name_too_long_is_a_reason_not_a_crash() -> None:
    long_parent = host("cmp-x", physnets={"physnet1": {"device": "enp129s0f0np0"}})
    binding = bind(network(vlan(4000)), port(vnic_type="macvtap"), long_parent, ["macvtap"])
    assert binding.status == "failed"
    assert "cannot form a valid macvtap VIF: details.parent" in reasons(binding)
    assert "longer than 15 bytes" in reasons(binding)


def test_mtu_larger_than_the_physnet_carries_is_refused() -> None:
    small = host(physnets={"physnet1": {"bridge": "br-phys1", "mtu": 1500}})
    binding = bind(network(vlan(101), mtu=9000), port(), small, ["ovn"])
    assert binding.status == "failed"
    assert "network MTU 9000 exceeds the MTU 1500 of physnet physnet1 on host cmp-1" in reasons(
        binding
    )
    assert bind(network(vlan(101), mtu=1500), port(), small, ["ovn"]).mtu == 1500


# --- failures are explained, inputs are checked --------------------------------------------


def test_failed_binding_has_a_decision_per_backend() -> None:
    binding = bind(network(geneve()), port(), host("bhyve-ish", hypervisor="qemu", ovs=None))
    assert binding.status == "failed"
    assert binding.vif is None and binding.protections is None
    backends = {d.backend for d in binding.decisions}
    assert backends == {"ovn", "ovs", "linuxbridge", "sriov", "macvtap", "xen", "vmware", "hyperv"}
    assert "host bhyve-ish reports no Open vSwitch; ovn needs one" in reasons(binding, "ovn")


def test_no_backends_is_a_failed_binding_with_a_reason() -> None:
    binding = bind(network(geneve()), port(), host(), [])
    assert binding.status == "failed"
    assert reasons(binding) == "(none)/None/failed: no backend is enabled"


def test_port_of_another_network_is_refused() -> None:
    other = port(network_id="00000000-0000-4000-8000-000000000001")
    with pytest.raises(InvalidInput, match=r"port\.network_id"):
        bind(network(geneve()), other, host())


def test_binding_carries_what_the_host_needs() -> None:
    binding = bind(network(geneve(), mtu=1442), port(), host())
    assert (binding.port_id, binding.host, binding.mac, binding.mtu) == (
        PORT_ID,
        "cmp-1",
        "fa:16:3e:12:34:56",
        1442,
    )
    assert binding.network_id == NETWORK_ID
    assert (binding.fixed_ips, binding.device_id) == (["192.0.2.10"], "vm-blue-1")
    assert binding.active is True and binding.plugged is False and binding.revision == 0
    assert [d.outcome for d in binding.decisions].count("chosen") == 1


def test_security_groups_are_never_left_to_a_filter_without_connection_state() -> None:
    """A macvtap has no bridge where the host's stateful filter would see its frames: security
    groups cannot be the host's job there, even on a host with nftables."""
    binding = bind(network(vlan(101)), port(vnic_type="macvtap", security_groups=["web"]), host())
    assert binding.status == "failed"
    assert (
        "security_groups must be enforced by the host (macvtap does not enforce it), but host "
        "cmp-1 has no mechanism for it that acts on macvtap 1.0" in reasons(binding, "macvtap")
    )
    assert "usable on this attachment: none" in reasons(binding, "macvtap")
    plain = bind(network(vlan(101)), port(vnic_type="macvtap"), host())
    assert plain.status == "bound"
