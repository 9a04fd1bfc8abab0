"""Hostile or broken bindings are refused with a reason, and the host does not change a byte.

Bindings the contract itself would reject are built with ``model_construct``/``model_copy`` so
that they reach the host unvalidated: the host must validate them again.
"""

from __future__ import annotations

import pytest

from vifbind.contract import Binding
from vifbind.contract.vifs.ovs import OvsDetails11, OvsVif11
from vifbind.contract.vifs.vhostuser import VhostuserDetails11, VhostuserVif11

from bindings import HOST_ANTISPOOF, binding, bridge_vif, devname, ovs_vif, port_id
from snapshot import host_state as snapshot

pytestmark = pytest.mark.e2e

MAC = "fa:16:3e:0b:00:01"


def tampered(good: Binding, **details: object) -> Binding:
    """``good`` with VIF details replaced, never validated (as if forged on the way)."""
    vif = good.vif
    assert isinstance(vif, OvsVif11)
    forged = OvsVif11.model_construct(
        type="ovs",
        version="1.1",
        details=OvsDetails11.model_construct(**(dict(vif.details) | details)),
    )
    return good.model_copy(update={"vif": forged})


@pytest.fixture
def hv(make_host, netns):
    host = make_host("hv", linux_bridges=["br-allowed"])
    host.ns.ip("link", "add", "br-foreign", "type", "bridge")
    host.ns.ip("link", "add", "victim0", "type", "veth", "peer", "name", "victim1")
    host.ns.ip("link", "add", "qbrvictim", "type", "bridge")
    host.guest = netns("g")
    return host


def hostile_bindings(hv) -> dict[str, Binding]:
    g = hv.guest.name
    p = port_id()
    good = binding("hv", ovs_vif(p), port=p, mac=MAC, ips=["192.0.2.1"], device_id=g)
    sock = VhostuserVif11.model_construct(
        type="vhostuser",
        version="1.1",
        details=VhostuserDetails11.model_construct(
            socket_path=f"{hv.config.vhostuser_socket_dir}/../../etc/evil",
            mode="server",
            ovs_bridge="br-int",
            queues=1,
        ),
    )
    outside = {
        "type": "vhostuser",
        "version": "1.1",
        "details": {"socket_path": "/run/elsewhere/vhu0", "mode": "server", "ovs_bridge": "br-int"},
    }
    q = port_id()
    hybrid = ovs_vif(p, hybrid=True)
    hybrid["details"] = hybrid["details"] | {"devname": "tapvictim"}

    def plain(vif: dict[str, object], host: str = "hv", guest: str = g, **kw: object) -> Binding:
        return binding(host, vif, port=str(kw.pop("port", p)), mac=MAC, ips=[], device_id=guest,
                       **kw)  # fmt: skip

    return {
        "shell injection in devname": tampered(good, devname="tap;reboot"),
        "option injection in devname": tampered(good, devname="-rf"),
        "name longer than 15 bytes": tampered(good, devname="tap0123456789abcdef"),
        "unicode look-alike": tampered(good, devname="tар0"),
        "injection in MAC": good.model_copy(update={"mac": 'fa:16:3e:00:00:01" drop'}),
        "injection in device_id": good.model_copy(update={"device_id": "../../proc/1/ns/net"}),
        "foreign OVS bridge": plain(ovs_vif(p, bridge="br-ex")),
        "foreign Linux bridge": plain(bridge_vif(p, "br-foreign")),
        "socket path escape": good.model_copy(update={"vif": sock}),
        "socket outside the directory": plain(outside),
        "takes over an unmarked device": tampered(good, devname="victim0"),
        "hybrid bridge over an unmarked bridge": plain(hybrid, protections=HOST_ANTISPOOF),
        "host filtering where no filter sees the frames": plain(
            ovs_vif(q), port=q, protections=HOST_ANTISPOOF
        ),
        "binding for another host": plain(ovs_vif(p), host="cmp-9"),
        "missing guest namespace": plain(ovs_vif(p), guest="vbt-no-such-ns"),
    }


def test_hostile_bindings_are_refused_and_nothing_changes(hv):
    cases = hostile_bindings(hv)
    before = snapshot(hv)
    for what, hostile in cases.items():
        results = hv.host.apply([hostile])
        assert [r.outcome for r in results] == ["refused"], (what, results)
        assert results[0].reason, what
        assert not results[0].changed, what
        assert snapshot(hv) == before, what
    reconciled = hv.host.reconcile(list(cases.values())[:1])
    assert [r.outcome for r in reconciled.results] == ["refused"]
    assert snapshot(hv) == before


def test_refusals_name_the_field(hv):
    cases = hostile_bindings(hv)
    reasons = {what: hv.host.apply([b])[0].reason or "" for what, b in cases.items()}
    assert "devname" in reasons["shell injection in devname"]
    assert "longer than 15 bytes" in reasons["name longer than 15 bytes"]
    assert reasons["injection in MAC"].startswith("mac:")
    assert "br-ex" in reasons["foreign OVS bridge"]
    assert "br-foreign" in reasons["foreign Linux bridge"]
    assert "socket_path" in reasons["socket path escape"]
    assert "socket_path" in reasons["socket outside the directory"]
    assert "victim0" in reasons["takes over an unmarked device"]
    assert "not marked by vifbind" in reasons["takes over an unmarked device"]
    assert "qbrvictim" in reasons["hybrid bridge over an unmarked bridge"]
    assert "host_enforcement" in reasons["host filtering where no filter sees the frames"]


def test_unplug_and_reconcile_never_touch_unmarked_devices(hv):
    before = snapshot(hv)
    assert hv.host.unplug(port_id()).outcome == "unplugged"
    report = hv.host.reconcile([])
    assert report.removed == []
    assert snapshot(hv) == before
    assert devname("victim0") not in before[0]
