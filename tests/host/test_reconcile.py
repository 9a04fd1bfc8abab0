"""Reconcile and check: drift and orphans are reported first, then converged; unmarked devices
are never touched. Plug and unplug are idempotent."""

from __future__ import annotations

import uuid

import pytest

from bindings import HOST_ANTISPOOF, binding, devname, ovs_vif, port_id
from snapshot import host_state as state

pytestmark = pytest.mark.e2e


@pytest.fixture
def plugged(make_host, netns):
    hv = make_host("hv")
    guests = [netns(f"g{i}") for i in range(4)]
    ports = [port_id() for _ in guests]
    bindings = [
        binding("hv", ovs_vif(p, hybrid=(i == 1)), port=p, mac=f"fa:16:3e:0d:00:0{i + 1}",
                ips=[f"192.0.2.{i + 1}"], device_id=g.name,
                protections=HOST_ANTISPOOF if i == 1 else None)
        for i, (p, g) in enumerate(zip(ports, guests, strict=True))
    ]  # fmt: skip
    assert {r.outcome for r in hv.host.apply(bindings)} == {"plugged"}
    for i, guest in enumerate(guests):
        guest.addr(f"192.0.2.{i + 1}/24")
    return hv, guests, ports, bindings


def test_check_reports_drift_and_orphans_then_reconcile_converges(plugged):
    hv, guests, ports, bindings = plugged
    # The network's MTU changed (OVS itself restores a device's MTU to its mtu_request).
    desired = [bindings[0].model_copy(update={"mtu": 1400}), *bindings[1:3]]
    hv.ns.ip("link", "del", devname(ports[2]))
    dev1 = devname(ports[1])
    hv.ns.ip("link", "set", dev1, "nomaster")
    hv.ns.exec("nft", "delete", "element", "bridge", "vifbind", "guest_out", f'{{ "{dev1}" }}')
    chain = hv.host.inventory().chains[ports[1]].name
    hv.ns.exec("nft", "flush", "chain", "bridge", "vifbind", chain)
    hv.ns.exec("nft", "delete", "chain", "bridge", "vifbind", chain)
    zombie = str(uuid.uuid4())
    hv.ns.ip("link", "add", "tapzombie", "type", "veth", "peer", "name", "tapzombie1")
    hv.ns.ip("link", "set", "tapzombie", "alias", f"vifbind:{zombie}")
    hv.ns.ip("link", "add", "bystander", "type", "veth", "peer", "name", "bystander1")

    before = state(hv)
    drift = hv.host.check(desired)
    assert state(hv) == before

    found = {(d.subject, d.kind) for d in drift}
    details = " | ".join(d.detail for d in drift)
    assert (ports[0], "drift") in found and "MTU is 1500, should be 1400" in details
    assert (ports[1], "drift") in found and "rule chain missing" in details
    assert f"device {dev1} is on no bridge, should be on qbr" in details
    assert (ports[2], "drift") in found and f"device {devname(ports[2])} missing" in details
    assert (ports[3], "orphan") in found
    assert (zombie, "orphan") in found
    assert not any("bystander" in d.detail or d.subject == "bystander" for d in drift)

    report = hv.host.reconcile(desired)
    assert [(r.port_id, r.outcome) for r in report.results] == [(p, "plugged") for p in ports[:3]]
    assert set(report.removed) == {ports[3], zombie}
    assert hv.host.check(desired) == []
    links = hv.ns.ip("link")
    assert "bystander" in links and "tapzombie" not in links and devname(ports[3]) not in links
    assert devname(ports[3]) not in hv.ovs.vsctl("list-ports", "br-int")
    assert f"o-{ports[1]}" in hv.ns.exec("nft", "list", "table", "bridge", "vifbind")
    # Repaired in place: the guest keeps its NIC (and address) and gets the new MTU.
    assert '"mtu":1400' in guests[0].ip("-j", "link", "show", "eth0").replace(" ", "")
    assert "192.0.2.1/24" in guests[0].ip("addr", "show", "eth0")
    # The guest whose device was deleted got a new NIC: it needs its address again.
    guests[2].addr("192.0.2.3/24")
    assert guests[0].eventually_pings("192.0.2.3")
    assert guests[1].eventually_pings("192.0.2.1")


def test_plug_twice_unplug_twice_and_unplug_after_the_guest_is_gone(plugged):
    hv, guests, ports, bindings = plugged
    before = state(hv)
    again = hv.host.apply(bindings)
    assert {(r.outcome, r.changed) for r in again} == {("plugged", False)}
    assert state(hv) == before

    first, second = hv.host.unplug(ports[1]), hv.host.unplug(ports[1])
    assert (first.outcome, first.changed) == ("unplugged", True)
    assert (second.outcome, second.changed) == ("unplugged", False)
    assert f"o-{ports[1]}" not in hv.ns.exec("nft", "list", "ruleset")
    assert ports[1][:8] not in hv.ns.ip("link")

    guests[0].delete()
    gone = hv.host.unplug(ports[0])
    assert gone.outcome == "unplugged"
    assert devname(ports[0]) not in hv.ovs.vsctl("list-ports", "br-int")
    assert hv.host.inventory().owned_ports() == {ports[2], ports[3]}


def test_a_device_left_by_an_interrupted_plug_is_reported_then_removed(make_host):
    """A plug killed between creating a device and renaming it leaves a ``vbnew…`` device:
    check reports it, reconcile removes it (its veth peer goes with it)."""
    hv = make_host("hv", ovs=False)
    hv.ns.ip("link", "add", "vbnew0123456789", "type", "veth", "peer", "name", "vbnewpeer01")
    drift = hv.host.check([])
    assert {(d.subject, d.kind) for d in drift} == {
        ("vbnew0123456789", "orphan"),
        ("vbnewpeer01", "orphan"),
    }
    hv.host.reconcile([])
    assert "vbnew" not in hv.ns.ip("link")


def test_the_reserved_prefix_cannot_be_asked_for(make_host, netns):
    hv = make_host("hv")
    guest = netns("g")
    p = port_id()
    vif = ovs_vif(p) | {"details": ovs_vif(p)["details"] | {"devname": "vbnewhostile"}}
    [result] = hv.host.apply(
        [binding("hv", vif, port=p, mac="fa:16:3e:00:0a:01", ips=[], device_id=guest.name)]
    )
    assert result.outcome == "refused"
    assert "the prefix 'vbnew' is reserved" in (result.reason or "")
