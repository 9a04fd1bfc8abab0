"""Plugs for KVM guests: a tap libvirt only opens, a macvtap on a physnet device, and
vhost-user, which this (non-DPDK) Open vSwitch cannot create."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys

import pytest
from frames import SNIFFER, mac_bytes

from vifbind.host.plugs.macvtap import macvtap_name
from vifbind.host.plugs.vhostuser import vhostuser_port

from bindings import HOST_ANTISPOOF, binding, devname, port_id
from snapshot import host_state

pytestmark = pytest.mark.e2e

MAC = "fa:16:3e:10:00:01"


@pytest.fixture
def kvm(make_host):
    hv = make_host("kvm", hypervisor="kvm", physnets={"physnet1": {"device": "uplink0"}})
    # No dummy devices in this kernel: the physnet's NIC is one end of a veth, whose other end
    # shows what leaves the host.
    hv.ns.ip("link", "add", "uplink0", "type", "veth", "peer", "name", "uplink1")
    hv.ns.ip("link", "set", "uplink0", "up")
    hv.ns.ip("link", "set", "uplink1", "up")
    return hv


def link(hv, name: str) -> dict:
    return json.loads(hv.ns.ip("-j", "-d", "link", "show", name))[0]


def test_tap_exists_for_libvirt_to_open_and_nobody_manages_it(kvm):
    p = port_id()
    tap = {"type": "tap", "version": "1.0", "details": {"devname": devname(p)}}
    result = kvm.host.apply(
        [binding("kvm", tap, port=p, mac=MAC, ips=["192.0.2.1"], mtu=1400,
                 protections=HOST_ANTISPOOF)]
    )  # fmt: skip
    assert [r.outcome for r in result] == ["plugged"], result
    dev = link(kvm, devname(p))
    assert dev["linkinfo"]["info_kind"] == "tun"
    assert dev["linkinfo"]["info_data"]["type"] == "tap"
    assert dev["linkinfo"]["info_data"]["persist"] is True
    assert "master" not in dev
    assert dev["mtu"] == 1400 and dev["ifalias"] == f"vifbind:{p}"
    assert devname(p) not in kvm.ovs.vsctl("show")
    ruleset = kvm.ns.exec("nft", "list", "table", "netdev", "vifbind")
    assert f"o-{p}" in ruleset and "hook ingress" in ruleset and devname(p) in ruleset
    assert kvm.host.unplug(p).outcome == "unplugged"
    assert devname(p) not in kvm.ns.ip("link")


def send_through_macvtap(hv, dev: str, frames: list[bytes]) -> str:
    """Transmit ``frames`` as the guest would (through the macvtap's character device) and
    return what the physnet's wire (``uplink1``) saw, as hex lines."""
    index = link(hv, dev)["ifindex"]
    sniff = subprocess.Popen(
        ["ip", "netns", "exec", hv.ns.name, sys.executable, "-c", SNIFFER, "uplink1", "1.5"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    assert sniff.stdout is not None
    assert sniff.stdout.readline().strip() == "ready"
    fd = os.open(f"/dev/tap{index}", os.O_RDWR)
    try:
        for frame in frames:
            os.write(fd, bytes(10) + frame)  # an empty virtio-net header first
    finally:
        os.close(fd)
    out, _ = sniff.communicate(timeout=10)
    return out


def udp(src_mac: str, src_ip: str, marker: bytes) -> bytes:
    """A broadcast UDP frame from ``src_mac``/``src_ip`` carrying ``marker``."""
    payload = marker + bytes(8)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + 8 + len(payload), 0, 0, 64, 17, 0,
                     bytes(map(int, src_ip.split("."))), bytes([192, 0, 2, 99]))  # fmt: skip
    udp_header = struct.pack("!HHHH", 9, 9, 8 + len(payload), 0)
    return b"\xff" * 6 + mac_bytes(src_mac) + b"\x08\x00" + ip + udp_header + payload


SPOOFS = [
    udp(MAC, "192.0.2.1", b"honest"),
    udp("fa:16:3e:10:00:99", "192.0.2.1", b"badmac"),
    udp(MAC, "192.0.2.77", b"badip!"),
]


@pytest.mark.parametrize("protections", [HOST_ANTISPOOF, None], ids=["host", "unprotected"])
def test_macvtap_on_the_physnet_device_filters_on_egress(kvm, protections):
    p = port_id()
    vif = {"type": "macvtap", "version": "1.0", "details": {"parent": "uplink0", "mode": "bridge"}}
    result = kvm.host.apply(
        [binding("kvm", vif, port=p, mac=MAC, ips=["192.0.2.1"], protections=protections)]
    )
    assert [r.outcome for r in result] == ["plugged"], result
    dev = link(kvm, macvtap_name(p))
    assert dev["linkinfo"]["info_kind"] == "macvtap"
    assert dev["link"] == "uplink0" and dev["address"] == MAC

    seen = send_through_macvtap(kvm, macvtap_name(p), SPOOFS)

    assert b"honest".hex() in seen
    # Unprotected, the spoofed frames leave the host: the filter is what stops them.
    assert (b"badmac".hex() in seen) is (protections is None)
    assert (b"badip!".hex() in seen) is (protections is None)
    assert kvm.host.unplug(p).outcome == "unplugged"
    assert macvtap_name(p) not in kvm.ns.ip("link")
    assert f"o-{p}" not in kvm.ns.exec("nft", "list", "ruleset")


def test_macvtap_parent_must_be_a_physnet_device(kvm):
    kvm.ns.ip("link", "add", "mgmt0", "type", "veth", "peer", "name", "mgmt1")
    p = port_id()
    vif = {"type": "macvtap", "version": "1.0", "details": {"parent": "mgmt0", "mode": "bridge"}}
    result = kvm.host.apply([binding("kvm", vif, port=p, mac=MAC, ips=[])])
    assert result[0].outcome == "refused" and "mgmt0" in (result[0].reason or "")


def test_vhostuser_fails_clearly_without_dpdk_and_is_never_plugged(kvm):
    p = port_id()
    vif = {
        "type": "vhostuser",
        "version": "1.1",
        "details": {
            "socket_path": f"{kvm.config.vhostuser_socket_dir}/vhu{p[:8]}",
            "mode": "server",
            "ovs_bridge": "br-int",
            "queues": 1,
        },
    }
    before = host_state(kvm)
    result = kvm.host.apply([binding("kvm", vif, port=p, mac=MAC, ips=[])])
    assert result[0].outcome == "failed"
    assert "dpdkvhostuserclient" in (result[0].reason or "")
    assert vhostuser_port(p) not in kvm.ovs.vsctl("list-ports", "br-int")
    assert host_state(kvm) == before
    assert kvm.host.check([binding("kvm", vif, port=p, mac=MAC, ips=[])])[0].kind == "missing"


@pytest.mark.parametrize("hybrid", [False, True], ids=["plain", "hybrid"])
def test_ovs_plug_for_kvm_gives_libvirt_a_tap_that_ovs_already_uses(kvm, hybrid):
    p = port_id()
    vif = {
        "type": "ovs",
        "version": "1.1",
        "details": {"bridge": "br-int", "interface_id": p, "devname": devname(p),
                    "datapath_type": "netdev", "hybrid": hybrid},
    }  # fmt: skip
    protections = HOST_ANTISPOOF if hybrid else None
    result = kvm.host.apply(
        [binding("kvm", vif, port=p, mac=MAC, ips=["192.0.2.1"], protections=protections)]
    )
    assert [r.outcome for r in result] == ["plugged"], result
    tap = link(kvm, devname(p))
    assert tap["linkinfo"]["info_data"]["type"] == "tap"
    on_ovs = f"qvo{devname(p)[3:]}" if hybrid else devname(p)
    assert int(kvm.ovs.vsctl("get", "Interface", on_ovs, "ofport")) > 0
    assert ("master" in tap) is hybrid
    assert kvm.host.check([binding("kvm", vif, port=p, mac=MAC, ips=["192.0.2.1"],
                                   protections=protections)]) == []  # fmt: skip
    assert kvm.host.unplug(p).outcome == "unplugged"
    assert p[:8] not in kvm.ns.ip("link") and p[:8] not in kvm.ovs.vsctl("show")
