"""``bridge`` plug: on a bridge the host's configuration lists, and with the linuxbridge data
plane (a bridge + kernel VXLAN per network per host, flood entries to the network's other
hosts) across two host namespaces."""

from __future__ import annotations

import json
import uuid

import pytest

from vifbind.contract.vifs.bridge import network_bridge_name as network_bridge
from vifbind.host.plugs.bridge import vxlan_device

from bindings import HOST_ANTISPOOF, binding, bridge_vif, port_id

pytestmark = pytest.mark.e2e

NET_A, NET_B = str(uuid.uuid4()), str(uuid.uuid4())
UNDERLAY = {"hv1": "198.51.100.1", "hv2": "198.51.100.2"}


def vxlan_binding(host, net, vni, guest, mac, *, ip, **kw):
    p = port_id()
    return binding(
        host, bridge_vif(p, network_bridge(net)), port=p, mac=mac, ips=[ip], device_id=guest.name,
        mtu=1450, network_id=net, segment={"type": "vxlan", "segmentation_id": vni}, **kw,
    )  # fmt: skip


@pytest.fixture
def fabric(make_host, netns):
    hv1 = make_host("hv1", ovs=False, tunnels={"vxlan": UNDERLAY["hv1"]})
    hv2 = make_host("hv2", ovs=False, tunnels={"vxlan": UNDERLAY["hv2"]})
    hv1.ns.ip("link", "add", "u1", "type", "veth", "peer", "name", "u2", "netns", hv2.ns.name)
    for hv, dev in ((hv1, "u1"), (hv2, "u2")):
        hv.ns.ip("addr", "add", f"{UNDERLAY[hv.config.host]}/24", "dev", dev)
        hv.ns.ip("link", "set", dev, "up")
    return hv1, hv2


def test_guests_on_one_network_talk_across_hosts_and_networks_stay_apart(fabric, netns):
    hv1, hv2 = fabric
    g1, g2, g3 = netns("g1"), netns("g2"), netns("g3")
    b1 = vxlan_binding("hv1", NET_A, 100, g1, "fa:16:3e:0c:00:01", ip="203.0.113.1",
                       protections=HOST_ANTISPOOF)  # fmt: skip
    b2 = vxlan_binding("hv2", NET_A, 100, g2, "fa:16:3e:0c:00:02", ip="203.0.113.2")
    b3 = vxlan_binding("hv2", NET_B, 200, g3, "fa:16:3e:0c:00:03", ip="203.0.113.3")
    peers = {NET_A: list(UNDERLAY.values()), NET_B: [UNDERLAY["hv2"]]}

    assert [r.outcome for r in hv1.host.apply([b1], peers)] == ["plugged"]
    assert [r.outcome for r in hv2.host.apply([b2, b3], peers)] == ["plugged", "plugged"]

    vx = json.loads(hv1.ns.ip("-j", "-d", "link", "show", vxlan_device(100)))[0]
    assert vx["linkinfo"]["info_data"]["id"] == 100
    assert vx["master"] == network_bridge(NET_A)
    assert "198.51.100.2" in hv1.ns.exec("bridge", "fdb", "show", "dev", vxlan_device(100))
    for guest, address in ((g1, "203.0.113.1"), (g2, "203.0.113.2"), (g3, "203.0.113.3")):
        guest.addr(f"{address}/24")
    assert g1.eventually_pings("203.0.113.2")
    assert g1.tcp_echo(g2, "203.0.113.2")
    assert not g1.ping("203.0.113.3", count=2, timeout=1)
    assert not g2.ping("203.0.113.3", count=2, timeout=1)

    g1.ip("addr", "add", "203.0.113.9/24", "dev", "eth0")
    g1.ip("neigh", "flush", "dev", "eth0")
    g2.ip("neigh", "flush", "dev", "eth0")
    assert not g1.ping("203.0.113.2", count=2, timeout=1, source="203.0.113.9")
    g1.ip("addr", "del", "203.0.113.9/24", "dev", "eth0")
    g1.ip("link", "set", "eth0", "address", "fa:16:3e:0c:00:99")
    g1.ip("neigh", "flush", "dev", "eth0")
    assert not g1.ping("203.0.113.2", count=2, timeout=1)


def test_peers_follow_the_input_and_the_last_port_takes_the_network_along(fabric, netns):
    hv1, _ = fabric
    g1 = netns("g1")
    b1 = vxlan_binding("hv1", NET_A, 100, g1, "fa:16:3e:0c:01:01", ip="203.0.113.1")
    hv1.host.apply([b1], {NET_A: ["198.51.100.2", "198.51.100.7"]})
    fdb = hv1.ns.exec("bridge", "fdb", "show", "dev", vxlan_device(100))
    assert "198.51.100.7" in fdb and "198.51.100.2" in fdb
    drift = hv1.host.check([b1], {NET_A: ["198.51.100.2"]})
    assert [d.detail for d in drift] == ["flood entry to 198.51.100.7 stale"]
    hv1.host.apply([b1], {NET_A: ["198.51.100.2"]})
    assert "198.51.100.7" not in hv1.ns.exec("bridge", "fdb", "show", "dev", vxlan_device(100))

    assert hv1.host.unplug(b1.port_id).outcome == "unplugged"
    links = hv1.ns.ip("link")
    assert network_bridge(NET_A) not in links and vxlan_device(100) not in links


def test_guests_on_a_configured_bridge_which_vifbind_never_removes(make_host, netns):
    hv = make_host("hv", ovs=False, linux_bridges=["br-phys1"])
    hv.ns.ip("link", "add", "br-phys1", "type", "bridge")
    hv.ns.ip("link", "set", "br-phys1", "up")
    guests = [netns("g1"), netns("g2")]
    ports = [port_id(), port_id()]
    results = hv.host.apply(
        [
            binding("hv", bridge_vif(p, "br-phys1"), port=p, mac=f"fa:16:3e:0c:02:0{i}",
                    ips=[f"192.0.2.{i}"], device_id=g.name)
            for i, (p, g) in enumerate(zip(ports, guests, strict=True), start=1)
        ]
    )  # fmt: skip
    assert [r.outcome for r in results] == ["plugged", "plugged"]
    guests[0].addr("192.0.2.1/24")
    guests[1].addr("192.0.2.2/24")
    assert guests[0].eventually_pings("192.0.2.2")
    for p in ports:
        assert hv.host.unplug(p).outcome == "unplugged"
    assert "br-phys1" in hv.ns.ip("link")
    assert hv.host.reconcile([]).removed == []
    assert "br-phys1" in hv.ns.ip("link")
