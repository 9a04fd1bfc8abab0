"""Discovery: the host report of real hosts."""

from __future__ import annotations

import pytest

from vifbind.contract import HostReport

pytestmark = pytest.mark.e2e


def test_facts_of_a_netns_host_with_userspace_ovs(make_host):
    hv = make_host("hv", tunnels={"vxlan": "198.51.100.1", "geneve": "198.51.100.1"},
                   physnets={"physnet1": {"bridge": "br-phys1"}})  # fmt: skip
    report = hv.host.facts()
    assert isinstance(report, HostReport)
    assert HostReport.model_validate(report.model_dump(mode="json")) == report
    assert report.host == "hv" and report.hypervisor == "netns"
    assert report.vif_types == {"ovs": ["1.0", "1.1"], "bridge": ["1.0"], "tap": ["1.0"]}
    assert report.ovs is not None
    assert report.ovs.bridge == "br-int" and report.ovs.datapath_type == "netdev"
    assert "tap" in report.ovs.iface_types and "internal" in report.ovs.iface_types
    assert report.enforcement.mac_spoofing == ["nftables"]
    assert report.enforcement.ip_spoofing == ["nftables"]
    assert report.enforcement.security_groups == ["nftables"]
    assert report.physnets["physnet1"].bridge == "br-phys1"
    assert report.tunnels == {"vxlan": "198.51.100.1", "geneve": "198.51.100.1"}


def test_facts_of_a_kvm_host_without_ovs(make_host):
    hv = make_host("kvm", ovs=False, hypervisor="kvm", physnets={"p1": {"device": "eth1"}})
    report = hv.host.facts()
    assert report.ovs is None
    assert set(report.vif_types) == {"bridge", "tap", "macvtap"}
