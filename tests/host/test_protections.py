"""Host-enforced protections (nftables) on a hybrid OVS plug: spoofing dropped, legit passes."""

from __future__ import annotations

import json
import socket

import pytest
from frames import arp_reply, received, vlan_tagged

from vifbind.contract.vifs.ovs import hybrid_names

from bindings import HOST_ALL, HOST_ANTISPOOF, binding, devname, ovs_vif, port_id

pytestmark = pytest.mark.e2e

MAC_A, MAC_B = "fa:16:3e:0a:00:01", "fa:16:3e:0a:00:02"


def plug_pair(make_host, netns, protections):
    """Guest A (hybrid, ``protections`` on the host) and guest B (plain) on one OVS."""
    hv = make_host("hv")
    a, b = netns("a"), netns("b")
    pa, pb = port_id(), port_id()
    results = hv.host.apply(
        [
            binding("hv", ovs_vif(pa, hybrid=True), port=pa, mac=MAC_A, ips=["192.0.2.1"],
                    device_id=a.name, protections=protections, mtu=1450),
            binding("hv", ovs_vif(pb), port=pb, mac=MAC_B, ips=["192.0.2.2"], device_id=b.name,
                    mtu=1450),
        ]
    )  # fmt: skip
    assert [r.outcome for r in results] == ["plugged", "plugged"], results
    a.addr("192.0.2.1/24")
    b.addr("192.0.2.2/24")
    return hv, a, b, pa


@pytest.fixture
def pair(make_host, netns):
    """The pair with anti-spoofing on the host."""
    return plug_pair(make_host, netns, HOST_ANTISPOOF)


def test_hybrid_plug_builds_the_per_port_bridge_and_passes_legit_traffic(pair):
    hv, a, b, pa = pair
    names = hybrid_names(devname(pa))
    links = {d["ifname"]: d for d in json.loads(hv.ns.ip("-j", "-d", "link"))}
    assert links[devname(pa)]["master"] == names.bridge
    assert links[names.bridge_end]["master"] == names.bridge
    assert links[names.ovs_end]["mtu"] == 1450
    assert names.ovs_end in hv.ovs.vsctl("list-ports", "br-int")
    assert f"o-{pa}" in hv.ns.exec("nft", "list", "table", "bridge", "vifbind")
    assert a.eventually_pings("192.0.2.2")
    assert a.tcp_echo(b, "192.0.2.2")


def test_spoofed_mac_and_ip_are_dropped(pair):
    _, a, b, _ = pair
    assert a.eventually_pings("192.0.2.2")
    a.ip("addr", "add", "192.0.2.9/24", "dev", "eth0")
    a.ip("neigh", "flush", "dev", "eth0")
    b.ip("neigh", "flush", "dev", "eth0")
    assert not a.ping("192.0.2.2", count=2, timeout=1, source="192.0.2.9")
    assert a.ping("192.0.2.2", source="192.0.2.1")
    a.ip("addr", "del", "192.0.2.9/24", "dev", "eth0")
    a.ip("link", "set", "eth0", "address", "fa:16:3e:0a:00:99")
    a.ip("neigh", "flush", "dev", "eth0")
    b.ip("neigh", "flush", "dev", "eth0")
    assert not a.ping("192.0.2.2", count=2, timeout=1)


def test_forged_arp_and_vlan_tags_are_dropped(pair):
    _, a, b, _ = pair
    honest = arp_reply(MAC_A, MAC_A, "192.0.2.1", "192.0.2.2")
    assert received(a, b, honest, socket.inet_aton("192.0.2.1") + b"\xff" * 6)
    forged_ip = arp_reply(MAC_A, MAC_A, "192.0.2.2", "192.0.2.2")
    claim = bytes.fromhex(MAC_A.replace(":", "")) + socket.inet_aton("192.0.2.2")
    assert not received(a, b, forged_ip, claim)
    forged_mac = arp_reply(MAC_A, "fa:16:3e:0a:00:77", "192.0.2.1", "192.0.2.2")
    assert not received(a, b, forged_mac, bytes.fromhex("fa163e0a0077"))
    assert not received(a, b, vlan_tagged(MAC_A), b"\x81\x00\x00\x05")


def test_security_groups_on_the_host_deny_inbound_but_allow_replies(make_host, netns):
    _, a, b, _ = plug_pair(make_host, netns, HOST_ALL)
    assert a.eventually_pings("192.0.2.2")
    assert a.tcp_echo(b, "192.0.2.2")
    assert not b.ping("192.0.2.1", count=2, timeout=1)
    assert not b.tcp_echo(a, "192.0.2.1", port=5002)
