"""The agent end to end: a real service, a host namespace with its own OVS, guests as
namespaces. Bindings made through the service reach the host by the watch, get plugged, and
the guests talk; unbinding unplugs; a restarted agent reconciles; ``agent check`` reports
drift."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from vifbind.sandbox import wait_for
from vifbind.service.settings import ServiceSettings

from agents import agent_of, guest_port
from builders import VIFBIND, vxlan
from fabric import underlay
from guests import Namespace
from harness import RunningService, serve_in_thread

pytestmark = pytest.mark.e2e


@pytest.fixture
def service(tmp_path: Path) -> Iterator[RunningService]:
    settings = ServiceSettings(state_dir=tmp_path / "state", backends=("ovs", "linuxbridge"))
    with serve_in_thread(settings) as running:
        yield running


def ovs_host(make_host: Callable[..., Any], name: str = "hv", ip: str = "198.51.100.1") -> Any:
    return make_host(name, tunnels={"vxlan": ip})


def test_bindings_reach_the_host_and_guests_talk(
    make_host: Callable[..., Any], netns: Callable[[str], Namespace], service: RunningService
) -> None:
    hv = ovs_host(make_host)
    g1, g2 = netns("g1"), netns("g2")
    api = service.client()
    with agent_of(hv, service) as agent:
        wait_for(lambda: bool(api.list_hosts()), what="the agent's report")
        report = api.get_host("hv").report
        assert report.ovs is not None and report.ovs.datapath_type == "netdev"
        assert report.enforcement.mac_spoofing == ["nftables"]
        net = api.create_network([vxlan(101)], mtu=1400)
        p1 = guest_port(api, net.id, g1, "192.0.2.1")
        p2 = guest_port(api, net.id, g2, "192.0.2.2")
        for port_id in (p1, p2):
            binding = api.bind(port_id, "hv", check=True)
            assert binding.vif is not None and binding.vif.model_dump()["details"]["hybrid"]
        for port_id in (p1, p2):
            assert api.wait_plugged(port_id, "hv", timeout=20).plugged
        # The agent keeps what the host acts on, not the service's reasoning.
        assert api.get_binding(p1, "hv").decisions
        assert set(agent.desired) == {p1, p2}
        assert all(b.binding().decisions == [] for b in agent.desired.values())
        g1.addr("192.0.2.1/24")
        g2.addr("192.0.2.2/24")
        assert g1.eventually_pings("192.0.2.2")
        assert g1.tcp_echo(g2, "192.0.2.2")
        assert json.loads(g1.ip("-j", "link", "show", "eth0"))[0]["mtu"] == 1400
        # Unbinding unplugs: the guest loses its device.
        api.unbind(p2, "hv")
        wait_for(lambda: "eth0" not in g2.ip("link"), what="the unplug of g2")
        assert not g1.ping("192.0.2.2", count=1)


def test_a_restarted_agent_reconciles_what_happened_meanwhile(
    make_host: Callable[..., Any], netns: Callable[[str], Namespace], service: RunningService
) -> None:
    hv = ovs_host(make_host)
    kept, dropped, added = netns("kept"), netns("dropped"), netns("added")
    api = service.client()
    net = api.create_network([vxlan(102)])
    with agent_of(hv, service):
        wait_for(lambda: bool(api.list_hosts()), what="the agent's report")
        p_kept = guest_port(api, net.id, kept, "192.0.2.11")
        p_dropped = guest_port(api, net.id, dropped, "192.0.2.12")
        for port_id in (p_kept, p_dropped):
            api.bind(port_id, "hv", check=True)
            api.wait_plugged(port_id, "hv", timeout=20)
    # While the agent is down: one binding goes, one comes.
    api.unbind(p_dropped, "hv")
    p_added = guest_port(api, net.id, added, "192.0.2.13")
    api.bind(p_added, "hv", check=True)
    assert "eth0" in dropped.ip("link")
    with agent_of(hv, service):
        assert api.wait_plugged(p_added, "hv", timeout=20).plugged
        wait_for(lambda: "eth0" not in dropped.ip("link"), what="the orphan's removal")
        assert "eth0" in kept.ip("link")
        assert hv.host.inventory().owned_ports() == {p_kept, p_added}


def test_agent_check_reports_drift_without_changing_anything(
    make_host: Callable[..., Any],
    netns: Callable[[str], Namespace],
    service: RunningService,
    tmp_path: Path,
) -> None:
    hv = ovs_host(make_host)
    guest = netns("g")
    api = service.client()
    net = api.create_network([vxlan(103)])
    with agent_of(hv, service):
        wait_for(lambda: bool(api.list_hosts()), what="the agent's report")
        port_id = guest_port(api, net.id, guest, "192.0.2.21")
        api.bind(port_id, "hv", check=True)
        api.wait_plugged(port_id, "hv", timeout=20)
    config = tmp_path / "host.json"
    config.write_text(hv.config.model_dump_json())
    token = service.token("agent", "hv")

    def check() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [VIFBIND, "agent", "check", "--config", str(config), "--service", service.url,
             "--token", token, "--json"],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip

    clean = check()
    assert clean.returncode == 0, clean.stderr
    assert json.loads(clean.stdout) == []
    devname = api.get_binding(port_id, "hv").vif.model_dump()["details"]["devname"]  # type: ignore[union-attr]
    hv.ns.ip("link", "set", devname, "mtu", "1280")
    drifted = check()
    assert drifted.returncode == 1, drifted.stderr
    drift: list[dict[str, Any]] = json.loads(drifted.stdout)
    assert {d["subject"] for d in drift} == {port_id}
    now = json.loads(hv.ns.ip("-j", "link", "show", devname))[0]["mtu"]
    assert now == 1280, "check must change nothing"


UNDERLAY = {"lb1": "198.51.100.11", "lb2": "198.51.100.12"}


@pytest.fixture
def lb_fabric(make_host: Callable[..., Any]) -> tuple[Any, Any]:
    """Two Linux-bridge hosts (no OVS) joined by an underlay veth."""
    lb1 = make_host("lb1", ovs=False, tunnels={"vxlan": UNDERLAY["lb1"]})
    lb2 = make_host("lb2", ovs=False, tunnels={"vxlan": UNDERLAY["lb2"]})
    lb1.ns.ip("link", "add", "u1", "type", "veth", "peer", "name", "u2", "netns", lb2.ns.name)
    for hv, dev in ((lb1, "u1"), (lb2, "u2")):
        hv.ns.ip("addr", "add", f"{UNDERLAY[hv.config.host]}/24", "dev", dev)
        hv.ns.ip("link", "set", dev, "up")
    return lb1, lb2


def test_two_linux_bridge_hosts_learn_their_peers_from_the_service(
    lb_fabric: tuple[Any, Any], netns: Callable[[str], Namespace], service: RunningService
) -> None:
    lb1, lb2 = lb_fabric
    g1, g2, g3 = netns("g1"), netns("g2"), netns("g3")
    api = service.client()
    blue = api.create_network([vxlan(300)], mtu=1450)
    red = api.create_network([vxlan(301)], mtu=1450)
    with agent_of(lb1, service), agent_of(lb2, service):
        wait_for(lambda: len(api.list_hosts()) == 2, what="both reports")
        p1 = guest_port(api, blue.id, g1, "203.0.113.1")
        p2 = guest_port(api, blue.id, g2, "203.0.113.2")
        p3 = guest_port(api, red.id, g3, "203.0.113.3")
        for port_id, hv in ((p1, "lb1"), (p2, "lb2"), (p3, "lb2")):
            assert api.bind(port_id, hv, check=True).backend == "linuxbridge"
            assert api.wait_plugged(port_id, hv, timeout=20).plugged
        g1.addr("203.0.113.1/24")
        g2.addr("203.0.113.2/24")
        g3.addr("203.0.113.3/24")
        assert g1.eventually_pings("203.0.113.2")
        assert g1.tcp_echo(g2, "203.0.113.2")
        assert not g1.ping("203.0.113.3", count=2, timeout=1), "networks must stay apart"
        # Port security is the host's job here: a guest that takes another address is dropped.
        g1.ip("addr", "flush", "dev", "eth0")
        g1.addr("203.0.113.9/24")
        assert not g1.ping("203.0.113.2", count=2, timeout=1)


def test_live_migration_between_an_ovn_host_and_a_linux_bridge_host(
    make_host: Callable[..., Any],
    ovn_host: Any,
    netns: Callable[[str], Namespace],
    ovn: Any,
    tmp_path: Path,
) -> None:
    """The same port gets an ``ovs`` VIF on the OVN host and a ``bridge`` VIF on the Linux-bridge
    host; the destination is plugged while inactive, then activated, and both pass traffic."""
    source = ovn_host
    destination = make_host("lbhv", ovs=False, tunnels={"vxlan": "198.51.100.21"})
    migrating, q, r = netns("mig"), netns("q"), netns("r")
    settings = ServiceSettings(
        state_dir=tmp_path / "state", backends=("ovn", "linuxbridge"), ovn_nb=ovn.nb
    )
    with serve_in_thread(settings) as service:
        api = service.client()
        net = api.create_network([{"type": "geneve", "segmentation_id": 500}, vxlan(501)])
        p = guest_port(api, net.id, migrating, "192.0.2.51")
        q_port = guest_port(api, net.id, q, "192.0.2.52")
        r_port = guest_port(api, net.id, r, "192.0.2.53")
        with agent_of(source, service), agent_of(destination, service):
            wait_for(lambda: len(api.list_hosts()) == 2, what="both reports")
            on_source = api.bind(p, "ovnhv", check=True)
            api.bind(q_port, "ovnhv", check=True)
            assert (on_source.backend, on_source.vif and on_source.vif.type) == ("ovn", "ovs")
            for port_id in (p, q_port):
                assert api.wait_plugged(port_id, "ovnhv", timeout=30).plugged  # OVN's up
            migrating.addr("192.0.2.51/24")
            q.addr("192.0.2.52/24")
            assert migrating.eventually_pings("192.0.2.52")

            on_destination = api.bind(p, "lbhv", check=True)
            assert not on_destination.active
            assert (on_destination.backend, on_destination.vif and on_destination.vif.type) == (
                "linuxbridge",
                "bridge",
            )
            assert api.wait_plugged(p, "lbhv", timeout=30).plugged, "pre-plugged while inactive"
            api.bind(r_port, "lbhv", check=True)
            assert api.wait_plugged(r_port, "lbhv", timeout=30).plugged
            assert api.activate(p, "lbhv").active
            assert not api.get_binding(p, "ovnhv").active

            # The guest now sends through the destination's device (its second NIC here).
            migrating.ip("addr", "flush", "dev", "eth0")
            migrating.addr("192.0.2.51/24", dev="eth1")
            r.addr("192.0.2.53/24")
            assert migrating.eventually_pings("192.0.2.53")
            assert migrating.tcp_echo(r, "192.0.2.53")
            api.unbind(p, "ovnhv")
            wait_for(lambda: "eth0" not in migrating.ip("link"), what="the source's unplug")
            assert "eth1" in migrating.ip("link")


def test_ovn_bindings_on_two_hosts_plugged_by_ovn_and_talking_over_geneve(
    make_host: Callable[..., Any],
    netns: Callable[[str], Namespace],
    ovn: Any,
    tag: str,
    tmp_path: Path,
) -> None:
    """Two OVN hosts, each with its agent; the service's OVN northbound ports; the bindings
    turn plugged from OVN's up; guests on one network talk across hosts, another network's
    guest is apart, and a guest that changes its MAC is cut off."""
    hosts = []
    for i in (1, 2):
        hv = make_host(f"ovn{i}", fail_mode="secure", tunnels={"geneve": f"198.51.100.{40 + i}"})
        hosts.append(hv)
    hosts[0].ns.ip("link", "add", "ul0", "mtu", "9000", "type", "veth",
                   "peer", "name", "ul0", "netns", hosts[1].ns.name, "mtu", "9000")  # fmt: skip
    for i, hv in enumerate(hosts, start=1):
        underlay(hv, f"198.51.100.{40 + i}")
        ovn.attach(hv.ovs, chassis=f"ch{i}-{tag}", encap_ip=f"198.51.100.{40 + i}")
    a1, a2, b2 = netns("a1"), netns("a2"), netns("b2")
    settings = ServiceSettings(state_dir=tmp_path / "state", backends=("ovn",), ovn_nb=ovn.nb)
    with serve_in_thread(settings) as service:
        api = service.client()
        blue = api.create_network([{"type": "geneve", "segmentation_id": 700}])
        red = api.create_network([{"type": "geneve", "segmentation_id": 701}])
        plan = {
            "ovn1": [(a1, blue.id, "203.0.113.41")],
            "ovn2": [(a2, blue.id, "203.0.113.42"), (b2, red.id, "203.0.113.43")],
        }
        with agent_of(hosts[0], service), agent_of(hosts[1], service):
            wait_for(lambda: len(api.list_hosts()) == 2, what="both reports")
            for host_name, guests in plan.items():
                for guest, network_id, ip in guests:
                    port_id = guest_port(api, network_id, guest, ip)
                    assert api.bind(port_id, host_name, check=True).backend == "ovn"
                    assert api.wait_plugged(port_id, host_name, timeout=30).plugged
                    guest.addr(f"{ip}/24")
            assert a1.eventually_pings("203.0.113.42", timeout=20)
            assert a1.tcp_echo(a2, "203.0.113.42")
            assert not a1.ping("203.0.113.43", count=2, timeout=1), "networks must stay apart"
            a1.ip("link", "set", "eth0", "address", "fa:16:3e:0f:99:99")
            a1.ip("neigh", "flush", "dev", "eth0")
            a2.ip("neigh", "flush", "dev", "eth0")
            assert not a1.ping("203.0.113.42", count=2, timeout=1), "a changed MAC is dropped"


def port_chain(hv: Any, port_id: str) -> str:
    """The name of the port's nftables chain on the host (it carries the rules' digest)."""
    listing = subprocess.run(
        ["ip", "netns", "exec", hv.ns.name, "nft", "list", "chains"],
        capture_output=True, text=True, check=True, timeout=30,
    ).stdout  # fmt: skip
    found = [w for line in listing.splitlines() for w in line.split() if w.startswith("o-")]
    return next(name for name in found if name.removeprefix("o-").startswith(port_id))


def test_a_changed_binding_reaches_the_host_a_restated_one_changes_nothing(
    make_host: Callable[..., Any], netns: Callable[[str], Namespace], service: RunningService
) -> None:
    """The agent keeps bindings compactly (a digest of what the host acts on): a change of the
    port's addresses, which its anti-spoofing rules name, is still told apart and applied; a
    plugged report, which changes only the service's record, is not."""
    hv = ovs_host(make_host)
    guest = netns("g")
    api = service.client()
    net = api.create_network([vxlan(105)])
    with agent_of(hv, service) as agent:
        wait_for(lambda: bool(api.list_hosts()), what="the agent's report")
        port_id = guest_port(api, net.id, guest, "192.0.2.31")
        api.bind(port_id, "hv", check=True)
        assert api.wait_plugged(port_id, "hv", timeout=20).plugged
        wait_for(lambda: port_id in agent.desired, what="the agent's copy of the binding")
        held, chain = agent.desired[port_id], port_chain(hv, port_id)
        wait_for(lambda: agent.desired[port_id].plugged, what="the plugged report's echo")
        assert agent.desired[port_id].content == held.content
        assert port_chain(hv, port_id) == chain
        api.update_port(port_id, fixed_ips=["192.0.2.32"])
        wait_for(lambda: port_chain(hv, port_id) != chain, what="the rules of the new address")
        assert agent.desired[port_id].content != held.content
        assert agent.desired[port_id].binding().fixed_ips == ["192.0.2.32"]
        assert api.wait_plugged(port_id, "hv", timeout=20).plugged
