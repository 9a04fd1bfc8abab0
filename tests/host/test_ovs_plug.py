"""``ovs`` plug of netns guests into a real userspace Open vSwitch."""

from __future__ import annotations

import json

import pytest

from bindings import binding, devname, ovs_vif, port_id

pytestmark = pytest.mark.e2e


def test_two_guests_talk_through_ovs_and_get_the_binding_mtu(make_host, netns):
    hv = make_host("hv")
    g1, g2 = netns("g1"), netns("g2")
    p1, p2 = port_id(), port_id()
    b1 = binding("hv", ovs_vif(p1), port=p1, mac="fa:16:3e:00:00:01", ips=["192.0.2.1"],
                 device_id=g1.name, mtu=1400)  # fmt: skip
    b2 = binding("hv", ovs_vif(p2), port=p2, mac="fa:16:3e:00:00:02", ips=["192.0.2.2"],
                 device_id=g2.name, mtu=1400)  # fmt: skip

    results = hv.host.apply([b1, b2])

    assert [(r.port_id, r.outcome) for r in results] == [(p1, "plugged"), (p2, "plugged")]
    g1.addr("192.0.2.1/24")
    g2.addr("192.0.2.2/24")
    assert g1.eventually_pings("192.0.2.2")
    assert g1.tcp_echo(g2, "192.0.2.2")
    guest_dev = json.loads(g1.ip("-j", "link", "show", "eth0"))[0]
    host_dev = json.loads(hv.ns.ip("-j", "-d", "link", "show", devname(p1)))[0]
    assert guest_dev["mtu"] == 1400 and host_dev["mtu"] == 1400
    assert guest_dev["address"] == "fa:16:3e:00:00:01"
    assert host_dev["ifalias"] == f"vifbind:{p1}"
    ids = hv.ovs.vsctl("get", "Interface", devname(p1), "external_ids")
    for key in ("iface-id", "attached-mac", "vm-uuid", "iface-status", "vifbind-port"):
        assert f'"{key}"' in ids or f"{key}=" in ids
    assert f'iface-id="{p1}"' in ids
    assert hv.ovs.vsctl("get", "Interface", devname(p1), "mtu_request").strip() == "1400"


def test_the_guest_gets_the_next_free_eth_name(make_host, netns):
    hv = make_host("hv")
    guest = netns("g")
    first, second = port_id(), port_id()
    plugged = hv.host.apply(
        [
            binding("hv", ovs_vif(p), port=p, mac=mac, ips=[], device_id=guest.name)
            for p, mac in ((first, "fa:16:3e:00:01:01"), (second, "fa:16:3e:00:01:02"))
        ]
    )
    assert {r.outcome for r in plugged} == {"plugged"}
    links = {d["ifname"]: d["address"] for d in json.loads(guest.ip("-j", "link"))}
    assert links["eth0"] == "fa:16:3e:00:01:01"
    assert links["eth1"] == "fa:16:3e:00:01:02"
