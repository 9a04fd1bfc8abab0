"""``ovs`` plug claimed by OVN: ovn-controller on the host's OVS binds the logical port."""

from __future__ import annotations

import pytest

from bindings import binding, ovs_vif, port_id
from fabric import underlay

pytestmark = pytest.mark.e2e


def logical_port(ovn, switch: str, port: str, mac: str, ip: str) -> None:
    """Test setup: the logical switch port the network service would have created."""
    ovn.nbctl("lsp-add", switch, port, "--", "lsp-set-addresses", port, f"{mac} {ip}",
              "--", "lsp-set-port-security", port, f"{mac} {ip}")  # fmt: skip


def test_ovn_claims_plugged_ports_and_port_security_drops_spoofing(make_host, netns, ovn, tag):
    hv = make_host("hv", fail_mode="secure")
    ovn.attach(hv.ovs, chassis=f"ch-{tag}", encap_ip="127.0.0.1")
    ovn.nbctl("ls-add", f"net-{tag}")
    g1, g2 = netns("g1"), netns("g2")
    ports = [port_id(), port_id()]
    macs = ["fa:16:3e:0e:00:01", "fa:16:3e:0e:00:02"]
    ips = ["192.0.2.1", "192.0.2.2"]
    for p, mac, ip in zip(ports, macs, ips, strict=True):
        logical_port(ovn, f"net-{tag}", p, mac, ip)

    results = hv.host.apply(
        [
            binding("hv", ovs_vif(p), port=p, mac=mac, ips=[ip], device_id=g.name)
            for p, mac, ip, g in zip(ports, macs, ips, (g1, g2), strict=True)
        ]
    )

    assert [r.outcome for r in results] == ["plugged", "plugged"]
    for p in ports:
        ovn.nbctl("--timeout=20", "wait-until", "Logical_Switch_Port", p, "up=true")
    g1.addr("192.0.2.1/24")
    g2.addr("192.0.2.2/24")
    assert g1.eventually_pings("192.0.2.2")
    assert g1.tcp_echo(g2, "192.0.2.2")

    g1.ip("link", "set", "eth0", "address", "fa:16:3e:0e:00:99")
    g1.ip("neigh", "flush", "dev", "eth0")
    g2.ip("neigh", "flush", "dev", "eth0")
    assert not g1.ping("192.0.2.2", count=2, timeout=1)
    g1.ip("link", "set", "eth0", "address", macs[0])
    assert g1.eventually_pings("192.0.2.2")
    g1.ip("addr", "add", "192.0.2.9/24", "dev", "eth0")
    g2.ip("neigh", "flush", "dev", "eth0")
    assert not g1.ping("192.0.2.2", count=2, timeout=1, source="192.0.2.9")

    assert hv.host.unplug(ports[0]).outcome == "unplugged"
    ovn.nbctl("--timeout=20", "wait-until", "Logical_Switch_Port", ports[0], "up=false")


def test_two_hosts_over_geneve(make_host, netns, ovn, tag):
    """Guests on one logical switch talk across hosts; the other switch stays apart."""
    hv1 = make_host("hv1", fail_mode="secure")
    hv2 = make_host("hv2", fail_mode="secure")
    hv1.ns.ip("link", "add", "ul0", "mtu", "9000", "type", "veth",
              "peer", "name", "ul0", "netns", hv2.ns.name, "mtu", "9000")  # fmt: skip
    for i, hv in enumerate((hv1, hv2), start=1):
        underlay(hv, f"198.51.100.{i}")
        ovn.attach(hv.ovs, chassis=f"ch{i}-{tag}", encap_ip=f"198.51.100.{i}")
    ovn.nbctl("ls-add", f"a-{tag}", "--", "ls-add", f"b-{tag}")
    guests = {name: netns(name) for name in ("a1", "a2", "b2")}
    plan = {  # guest: (host, switch, mac, ip)
        "a1": (hv1, f"a-{tag}", "fa:16:3e:0f:00:01", "203.0.113.1"),
        "a2": (hv2, f"a-{tag}", "fa:16:3e:0f:00:02", "203.0.113.2"),
        "b2": (hv2, f"b-{tag}", "fa:16:3e:0f:00:03", "203.0.113.3"),
    }
    ports = {name: port_id() for name in plan}
    for name, (hv, switch, mac, ip) in plan.items():
        logical_port(ovn, switch, ports[name], mac, ip)
        result = hv.host.apply(
            [binding(hv.config.host, ovs_vif(ports[name]), port=ports[name], mac=mac, ips=[ip],
                     device_id=guests[name].name)]
        )  # fmt: skip
        assert [r.outcome for r in result] == ["plugged"]
        guests[name].addr(f"{ip}/24")
    for p in ports.values():
        ovn.nbctl("--timeout=30", "wait-until", "Logical_Switch_Port", p, "up=true")

    assert guests["a1"].eventually_pings("203.0.113.2", timeout=20)
    assert guests["a1"].tcp_echo(guests["a2"], "203.0.113.2")
    assert not guests["a1"].ping("203.0.113.3", count=2, timeout=1)
