"""The host's OVSDB connection (``vifbind.host.ovsdb``) against a private Open vSwitch: one
transaction adds a batch and replaces ports of the same name wherever they are; a port
ovs-vswitchd cannot open comes back with vswitchd's error, and a plug vswitchd never applies is
failed, not plugged; the replica follows what other clients change; the connection outlives an
ovsdb-server restart."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from vifbind.errors import PlugError
from vifbind.host.layout import OvsPortSpec
from vifbind.host.ovsdb import OWNER_KEY, Ovsdb
from vifbind.sandbox import wait_for

from bindings import binding, devname, ovs_vif, port_id

pytestmark = pytest.mark.e2e


@pytest.fixture
def hv(make_host: Callable[..., Any]) -> Any:
    return make_host("hv", hypervisor="kvm")


@pytest.fixture
def connect(hv: Any) -> Iterator[Callable[[float], Ovsdb]]:
    """Factory of connections to ``hv``'s OVSDB, all closed on teardown."""
    made: list[Ovsdb] = []

    def make(timeout: float) -> Ovsdb:
        made.append(Ovsdb(hv.ovs.remote, timeout))
        return made[-1]

    yield make
    for db in made:
        db.close()


def taps(hv: Any, *names: str) -> None:
    for name in names:
        hv.ns.ip("tuntap", "add", "dev", name, "mode", "tap")


def spec(name: str, bridge: str = "br-int") -> OvsPortSpec:
    return OvsPortSpec(name, bridge, {OWNER_KEY: f"port-{name}", "iface-id": name}, 1450)


def seen(db: Ovsdb) -> dict[str, tuple[str | None, str | None]]:
    """The replica's interfaces (but the bridges' own): bridge and owner by name."""
    return {i.name: (i.bridge, i.owner) for i in db.interfaces() if i.type != "internal"}


def test_one_transaction_adds_a_batch_and_replaces_ports_of_the_same_name(
    hv: Any, connect: Callable[[float], Ovsdb]
) -> None:
    taps(hv, "vba", "vbb", "vbc")
    hv.ovs.vsctl("add-port", "br-int", "vba", "--", "set", "Interface", "vba",
                 f"external_ids:{OWNER_KEY}=older")  # fmt: skip
    hv.ovs.vsctl("add-br", "br-other", "--", "set", "Bridge", "br-other", "datapath_type=netdev")
    hv.ovs.vsctl("add-port", "br-other", "vbb")
    db = connect(10)

    assert db.add_ports([spec("vba"), spec("vbb"), spec("vbc")]) == {}

    assert sorted(hv.ovs.vsctl("list-ports", "br-int").split()) == ["vba", "vbb", "vbc"]
    assert hv.ovs.vsctl("list-ports", "br-other").split() == []
    for name in ("vba", "vbb", "vbc"):
        assert int(hv.ovs.vsctl("get", "Interface", name, "ofport")) > 0
        assert hv.ovs.vsctl("get", "Interface", name, "mtu_request").strip() == "1450"
    owner = hv.ovs.vsctl("get", "Interface", "vba", f"external_ids:{OWNER_KEY}")
    assert owner.strip() == "port-vba"
    assert seen(db) == {n: ("br-int", f"port-{n}") for n in ("vba", "vbb", "vbc")}
    assert {i.name: i.ofport for i in db.interfaces()}["vbc"] == int(
        hv.ovs.vsctl("get", "Interface", "vbc", "ofport")
    )


def test_a_port_vswitchd_cannot_open_comes_back_with_its_error(
    hv: Any, connect: Callable[[float], Ovsdb]
) -> None:
    taps(hv, "vbok")
    db = connect(10)

    failed = db.add_ports([spec("vbok"), spec("vbmissing")])

    assert list(failed) == ["vbmissing"]
    assert "No such device" in failed["vbmissing"]
    assert int(hv.ovs.vsctl("get", "Interface", "vbok", "ofport")) > 0
    db.del_ports(["vbok", "vbmissing", "vbnever"])
    assert hv.ovs.vsctl("list-ports", "br-int").split() == []
    assert seen(db) == {}


def test_a_plug_vswitchd_does_not_apply_is_failed_and_plugs_once_it_is_back(
    make_host: Callable[..., Any],
) -> None:
    hv = make_host("hv", hypervisor="kvm", ovsdb_timeout=1)
    p = port_id()
    port = binding("hv", ovs_vif(p), port=p, mac="fa:16:3e:0d:00:01", ips=["192.0.2.5"])
    hv.ovs.daemons.kill("ovs-vswitchd")

    [result] = hv.host.apply([port])

    assert result.outcome == "failed"
    assert result.reason is not None and "ovs-vswitchd did not apply it" in result.reason
    hv.ovs.daemons.restart("ovs-vswitchd")
    [again] = hv.host.apply([port])
    assert again.outcome == "plugged", again.reason
    assert int(hv.ovs.vsctl("get", "Interface", devname(p), "ofport")) > 0
    assert hv.host.check([port]) == []


def test_the_replica_follows_what_other_clients_change(
    hv: Any, connect: Callable[[float], Ovsdb]
) -> None:
    taps(hv, "vba", "vbb")
    db = connect(10)
    assert db.add_ports([spec("vba"), spec("vbb")]) == {}

    hv.ovs.vsctl("del-port", "vbb")
    hv.ovs.vsctl("set", "Interface", "vba", f"external_ids:{OWNER_KEY}=moved")
    hv.ovs.vsctl("add-br", "br-x", "--", "set", "Bridge", "br-x", "datapath_type=netdev")
    hv.ovs.vsctl("add-port", "br-x", "vbc")

    expected = {"vba": ("br-int", "moved"), "vbc": ("br-x", None)}
    wait_for(lambda: seen(db) == expected, what=f"the replica to read {expected}: {seen(db)}")
    assert db.bridge_datapath("br-x") == "netdev"
    hv.ovs.vsctl("del-br", "br-x")
    wait_for(lambda: seen(db) == {"vba": ("br-int", "moved")}, what="br-x gone")
    assert db.bridge_datapath("br-x") is None


def test_the_connection_outlives_an_ovsdb_server_restart(
    hv: Any, connect: Callable[[float], Ovsdb]
) -> None:
    taps(hv, "vba", "vbb")
    db = connect(2)
    assert db.add_ports([spec("vba")]) == {}
    hv.ovs.daemons.kill("ovsdb-server")

    with pytest.raises(PlugError, match="OVSDB is not reachable"):
        db.add_ports([spec("vbb")])

    hv.ovs.daemons.restart("ovsdb-server")

    def added() -> bool:
        try:
            return db.add_ports([spec("vbb")]) == {}
        except PlugError:
            return False

    wait_for(added, timeout=30, what="a transaction once ovsdb-server is back")
    assert seen(db) == {"vba": ("br-int", "port-vba"), "vbb": ("br-int", "port-vbb")}
    assert sorted(hv.ovs.vsctl("list-ports", "br-int").split()) == ["vba", "vbb"]
