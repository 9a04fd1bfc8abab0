"""The OVN northbound side of the ``ovn`` backend, against real OVN daemons.

What vifbind wrote is read back through ovn-nbctl (not through vifbind's own replica).
"""

from __future__ import annotations

import queue
import re
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from vifbind.contract import Network, Port
from vifbind.errors import InvalidInput, OvnConflict, OvnUnavailable
from vifbind.service.ovn import (
    OWNER,
    OWNER_KEY,
    OvnNorthbound,
    localnet_port_name,
    port_group_name,
)

import builders
from ovn_fixtures import Hypervisor, OvnCentral, as_list, pings

pytestmark = pytest.mark.e2e

UP_DEADLINE = 10.0
"""Seconds for ovn-controller to claim (or release) a port and northd to write `up`."""


def new_network(*segments: dict[str, Any], mtu: int = 1442) -> Network:
    data = builders.network(*segments, mtu=mtu).model_dump() | {"id": str(uuid.uuid4())}
    return Network.model_validate(data)


def new_port(network: Network, **overrides: Any) -> Port:
    return builders.port(id=str(uuid.uuid4()), network_id=network.id, **overrides)


def ensured(northbound: OvnNorthbound, **overrides: Any) -> tuple[Network, Port]:
    """A new port on a new geneve network, ensured in NB."""
    net = new_network()
    port = new_port(net, **overrides)
    northbound.ensure_port(net, port)
    return net, port


def lsp(central: OvnCentral, name: str) -> dict[str, Any]:
    row = central.row("Logical_Switch_Port", name)
    assert row is not None, f"no Logical_Switch_Port {name}"
    return row


def switch_ports(central: OvnCentral, network_id: str) -> set[str]:
    """Names of the ports on the network's switch."""
    switch = central.row("Logical_Switch", network_id)
    assert switch is not None, f"no Logical_Switch {network_id}"
    names = {r["_uuid"]: r["name"] for r in central.rows("Logical_Switch_Port")}
    return {names[ref] for ref in as_list(switch["ports"])}


def test_port_gets_addresses_port_security_and_marks(
    ovn_central: OvnCentral, northbound: OvnNorthbound
) -> None:
    net = new_network(builders.geneve())
    port = new_port(
        net,
        fixed_ips=["192.0.2.10", "2001:db8::10"],
        allowed_address_pairs=[
            {"ip": "192.0.2.50"},
            {"mac": "fa:16:3e:aa:bb:cc", "ip": "198.51.100.0/24"},
        ],
    )
    northbound.ensure_port(net, port)

    switch = ovn_central.row("Logical_Switch", net.id)
    assert switch is not None
    assert switch["external_ids"] == {OWNER_KEY: OWNER, "vifbind:network_name": "blue"}
    assert switch["other_config"] == {"mtu": "1442"}
    row = lsp(ovn_central, port.id)
    assert as_list(row["addresses"]) == ["fa:16:3e:12:34:56 192.0.2.10 2001:db8::10"]
    assert sorted(as_list(row["port_security"])) == sorted(
        [
            "fa:16:3e:12:34:56 192.0.2.10 2001:db8::10",
            "fa:16:3e:12:34:56 192.0.2.50",
            "fa:16:3e:aa:bb:cc 198.51.100.0/24",
        ]
    )
    assert row["external_ids"] == {
        OWNER_KEY: OWNER,
        "vifbind:network_id": net.id,
        "vifbind:device_id": "vm-blue-1",
    }
    assert row["type"] == ""
    # A geneve network reaches no physnet: the port is alone on its switch.
    assert switch_ports(ovn_central, net.id) == {port.id}


def test_second_call_updates_in_place(ovn_central: OvnCentral, northbound: OvnNorthbound) -> None:
    net, port = ensured(northbound, allowed_address_pairs=[{"ip": "192.0.2.50"}])
    first = lsp(ovn_central, port.id)

    changed = port.model_copy(
        update={
            "fixed_ips": ["192.0.2.11", "192.0.2.12"],
            "allowed_address_pairs": [],
            "device_id": "vm-blue-2",
        }
    )
    northbound.ensure_port(net.model_copy(update={"name": "green", "mtu": 1400}), changed)
    northbound.ensure_port(net.model_copy(update={"name": "green", "mtu": 1400}), changed)

    row = lsp(ovn_central, port.id)
    assert row["_uuid"] == first["_uuid"]
    assert as_list(row["addresses"]) == ["fa:16:3e:12:34:56 192.0.2.11 192.0.2.12"]
    assert as_list(row["port_security"]) == ["fa:16:3e:12:34:56 192.0.2.11 192.0.2.12"]
    assert row["external_ids"]["vifbind:device_id"] == "vm-blue-2"
    [switch] = ovn_central.rows("Logical_Switch", f"name={net.id}")
    assert switch["other_config"] == {"mtu": "1400"}
    assert switch["external_ids"]["vifbind:network_name"] == "green"
    assert switch_ports(ovn_central, net.id) == {port.id}


def test_port_security_off_leaves_port_security_empty(
    ovn_central: OvnCentral, northbound: OvnNorthbound
) -> None:
    net, port = ensured(northbound)
    assert as_list(lsp(ovn_central, port.id)["port_security"]) != []

    northbound.ensure_port(net, port.model_copy(update={"port_security": False}))

    row = lsp(ovn_central, port.id)
    assert row["port_security"] == []
    assert as_list(row["addresses"]) == ["fa:16:3e:12:34:56 192.0.2.10"]


def test_vlan_and_flat_segments_get_localnet_ports(
    ovn_central: OvnCentral, northbound: OvnNorthbound
) -> None:
    net = new_network(builders.vlan(101, "physnet1"), builders.flat("physnet2"))
    port = new_port(net)
    northbound.ensure_port(net, port)

    vlan_name = localnet_port_name(net.id, "physnet1")
    flat_name = localnet_port_name(net.id, "physnet2")
    assert switch_ports(ovn_central, net.id) == {port.id, vlan_name, flat_name}
    vlan_port = lsp(ovn_central, vlan_name)
    assert vlan_port["type"] == "localnet"
    assert vlan_port["options"] == {"network_name": "physnet1"}
    assert vlan_port["tag_request"] == 101
    assert as_list(vlan_port["addresses"]) == ["unknown"]
    assert vlan_port["external_ids"][OWNER_KEY] == OWNER
    assert lsp(ovn_central, flat_name)["tag_request"] == []

    # The segments change: the VLAN id follows, a segment that is gone loses its localnet port.
    moved = net.model_copy(update={"segments": new_network(builders.vlan(202)).segments})
    northbound.ensure_port(moved, port)
    assert switch_ports(ovn_central, net.id) == {port.id, vlan_name}
    assert lsp(ovn_central, vlan_name)["tag_request"] == 202
    assert ovn_central.row("Logical_Switch_Port", flat_name) is None

    overlay = net.model_copy(update={"segments": new_network(builders.geneve()).segments})
    northbound.ensure_port(overlay, port)
    assert switch_ports(ovn_central, net.id) == {port.id}


def port_group(central: OvnCentral, group: str) -> dict[str, Any] | None:
    return central.row("Port_Group", port_group_name(group))


def member_names(central: OvnCentral, pg: dict[str, Any]) -> set[str]:
    names = {r["_uuid"]: r["name"] for r in central.rows("Logical_Switch_Port")}
    return {names[ref] for ref in as_list(pg["ports"])}


def test_security_groups_become_port_groups_with_default_acls(
    ovn_central: OvnCentral, northbound: OvnNorthbound
) -> None:
    net = new_network()
    web = f"web-{uuid.uuid4().hex[:6]}"
    db = f"db:{uuid.uuid4().hex[:6]}"
    one = new_port(net, security_groups=[web, db])
    two = new_port(net, mac="fa:16:3e:12:34:57", fixed_ips=["192.0.2.11"], security_groups=[web])
    northbound.ensure_port(net, one)
    northbound.ensure_port(net, two)

    web_pg = port_group(ovn_central, web)
    assert web_pg is not None
    assert member_names(ovn_central, web_pg) == {one.id, two.id}
    assert web_pg["external_ids"] == {OWNER_KEY: OWNER, "vifbind:security_group": web}
    acls = {r["_uuid"]: r for r in ovn_central.rows("ACL")}
    pg = port_group_name(web)
    assert sorted(
        (acls[ref]["direction"], acls[ref]["priority"], acls[ref]["match"], acls[ref]["action"])
        for ref in as_list(web_pg["acls"])
    ) == [
        ("from-lport", 1002, f"inport == @{pg} && ip", "allow-related"),
        ("to-lport", 1001, f"outport == @{pg} && ip", "drop"),
    ]
    db_pg = port_group(ovn_central, db)
    assert db_pg is not None
    assert member_names(ovn_central, db_pg) == {one.id}

    # Leaving a group: a group left empty goes, with its ACLs.
    northbound.ensure_port(net, one.model_copy(update={"security_groups": [web]}))
    assert port_group(ovn_central, db) is None
    assert not [a for a in ovn_central.rows("ACL") if f"@{port_group_name(db)} " in a["match"]]
    northbound.delete_port(one.id)
    web_pg = port_group(ovn_central, web)
    assert web_pg is not None
    assert member_names(ovn_central, web_pg) == {two.id}
    northbound.delete_port(two.id)
    assert port_group(ovn_central, web) is None


def test_delete_port(ovn_central: OvnCentral, northbound: OvnNorthbound) -> None:
    net, port = ensured(northbound)

    northbound.delete_port(port.id)

    assert ovn_central.row("Logical_Switch_Port", port.id) is None
    assert switch_ports(ovn_central, net.id) == set()
    northbound.delete_port(port.id)  # absent: not an error
    northbound.delete_network(str(uuid.uuid4()))


def test_delete_network_touches_nothing_unmarked(
    ovn_central: OvnCentral, northbound: OvnNorthbound
) -> None:
    net = new_network(builders.vlan(101))
    port = new_port(net)
    northbound.ensure_port(net, port)
    foreign_port = f"foreign-{uuid.uuid4()}"
    foreign_switch = f"foreign-{uuid.uuid4()}"
    ovn_central.nbctl("lsp-add", net.id, foreign_port)
    ovn_central.nbctl("ls-add", foreign_switch, "--", "lsp-add", foreign_switch, port.id + "x")

    northbound.delete_port(foreign_port)
    northbound.delete_network(foreign_switch)
    northbound.delete_network(net.id)

    # vifbind's ports went; the switch stays because it holds a port vifbind did not create.
    assert switch_ports(ovn_central, net.id) == {foreign_port}
    assert ovn_central.row("Logical_Switch_Port", port.id) is None
    assert ovn_central.row("Logical_Switch", foreign_switch) is not None
    assert ovn_central.row("Logical_Switch_Port", port.id + "x") is not None

    ovn_central.nbctl("lsp-del", foreign_port)
    # vifbind's replica learns of that deletion a moment later; until then the switch stays.
    deadline = time.monotonic() + 5
    while ovn_central.row("Logical_Switch", net.id) and time.monotonic() < deadline:
        northbound.delete_network(net.id)
    assert ovn_central.row("Logical_Switch", net.id) is None
    ovn_central.nbctl("ls-del", foreign_switch)


def test_unmarked_object_of_the_same_name_is_a_conflict_and_nothing_changes(
    ovn_central: OvnCentral, northbound: OvnNorthbound
) -> None:
    net = new_network()
    port = new_port(net)
    other = f"foreign-{uuid.uuid4()}"
    ovn_central.nbctl("ls-add", other, "--", "lsp-add", other, port.id)

    with pytest.raises(OvnConflict, match=re.escape(f"Logical_Switch_Port '{port.id}' exists")):
        northbound.ensure_port(net, port)

    assert ovn_central.row("Logical_Switch", net.id) is None
    assert lsp(ovn_central, port.id)["external_ids"] == {}
    ovn_central.nbctl("ls-del", other)


def test_port_of_another_network_is_refused(northbound: OvnNorthbound) -> None:
    net = new_network()
    port = builders.port(id=str(uuid.uuid4()))
    with pytest.raises(InvalidInput, match=r"port\.network_id"):
        northbound.ensure_port(net, port)


def next_up(events: queue.Queue[tuple[str, bool]], port_id: str) -> bool:
    """The next up state delivered for ``port_id`` (other ports' events are skipped)."""
    deadline = time.monotonic() + UP_DEADLINE
    while (left := deadline - time.monotonic()) > 0:
        try:
            delivered, up = events.get(timeout=left)
        except queue.Empty:
            break
        if delivered == port_id:
            return up
    raise AssertionError(f"no up state delivered for {port_id} within {UP_DEADLINE} s")


def watch(northbound: OvnNorthbound) -> tuple[queue.Queue[tuple[str, bool]], Callable[[], None]]:
    """Watch up states into a queue; the queue and the function that stops the watch."""
    events: queue.Queue[tuple[str, bool]] = queue.Queue()
    return events, northbound.watch_up(lambda port_id, up: events.put((port_id, up)))


def test_watch_up_follows_the_host_claiming_the_port(
    ovn_central: OvnCentral, hypervisor: Hypervisor, northbound: OvnNorthbound
) -> None:
    _, port = ensured(northbound)
    assert northbound.ports_up()[port.id] is False
    events, stop = watch(northbound)

    iface = hypervisor.plug(port.id, port.mac)
    assert next_up(events, port.id) is True
    assert northbound.ports_up()[port.id] is True
    assert lsp(ovn_central, port.id)["up"] is True

    hypervisor.unplug(iface)
    assert next_up(events, port.id) is False
    assert northbound.ports_up()[port.id] is False

    # A stopped watch hears nothing more; a second watch shows the change did happen.
    stop()
    witness, stop_witness = watch(northbound)
    hypervisor.plug(port.id, port.mac)
    assert next_up(witness, port.id) is True
    assert events.empty()
    stop_witness()


def test_watch_goes_on_across_a_northbound_restart(
    ovn_central: OvnCentral, hypervisor: Hypervisor, northbound: OvnNorthbound
) -> None:
    _, port = ensured(northbound)
    events, stop = watch(northbound)

    ovn_central.stop_nb()
    try:
        # Claimed while NB is down: northd writes `up` once NB is back.
        hypervisor.plug(port.id, port.mac)
    finally:
        ovn_central.start_nb()
    assert next_up(events, port.id) is True
    assert northbound.ports_up()[port.id] is True
    stop()


def test_security_group_drops_inbound_and_lets_outbound_and_its_replies_through(
    ovn_central: OvnCentral, hypervisor: Hypervisor, northbound: OvnNorthbound
) -> None:
    net = new_network()
    group = f"web-{uuid.uuid4().hex[:6]}"
    guarded = new_port(net, mac="fa:16:3e:00:00:21", fixed_ips=["192.0.2.21"])
    guarded = guarded.model_copy(update={"security_groups": [group]})
    other = new_port(net, mac="fa:16:3e:00:00:22", fixed_ips=["192.0.2.22"])
    events, stop = watch(northbound)
    for port in (guarded, other):
        northbound.ensure_port(net, port)
    guarded_ns = hypervisor.guest(guarded.id, guarded.mac, "192.0.2.21")
    other_ns = hypervisor.guest(other.id, other.mac, "192.0.2.22")
    assert next_up(events, guarded.id) is True
    assert next_up(events, other.id) is True
    stop()
    ovn_central.wait_hypervisors()

    assert pings(guarded_ns, "192.0.2.22"), "outbound (and its reply) must pass"
    assert not pings(other_ns, "192.0.2.21"), "inbound must be dropped"

    northbound.ensure_port(net, guarded.model_copy(update={"security_groups": []}))
    ovn_central.wait_hypervisors()
    assert pings(other_ns, "192.0.2.21"), "without the group, inbound passes again"


def test_unreachable_northbound_is_a_typed_error(tmp_path: Any) -> None:
    remote = f"unix:{tmp_path}/missing.sock"
    with OvnNorthbound(remote, timeout=1) as nb:
        with pytest.raises(
            OvnUnavailable, match=re.escape(f"cannot reach the OVN northbound database at {remote}")
        ):
            nb.delete_port(str(uuid.uuid4()))
        with pytest.raises(OvnUnavailable):
            nb.ports_up()


def test_northbound_restart(nb_only: OvnCentral) -> None:
    net = new_network()
    port = new_port(net)
    with OvnNorthbound(nb_only.nb_remote, timeout=1) as nb:
        nb.ensure_port(net, port)
        nb_only.stop_nb()

        with pytest.raises(
            OvnUnavailable, match=re.escape(f"at {nb_only.nb_remote} did not answer")
        ):
            nb.ensure_port(net, port.model_copy(update={"fixed_ips": ["192.0.2.99"]}))
        with pytest.raises(OvnUnavailable, match=r"did not answer within 1 s"):
            nb.ports_up()

        nb_only.start_nb()
        moved = port.model_copy(update={"fixed_ips": ["192.0.2.20"]})
        # The session reconnects once a second: the first call may come before it does.
        deadline = time.monotonic() + 5
        while True:
            try:
                nb.ensure_port(net, moved)
                break
            except OvnUnavailable:
                if time.monotonic() > deadline:
                    raise
        assert as_list(lsp(nb_only, port.id)["addresses"]) == ["fa:16:3e:12:34:56 192.0.2.20"]
        assert nb.ports_up() == {port.id: False}
