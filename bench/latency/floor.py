"""The floor of bind → plugged, measured on the same OVS before vifbind: one device at a time,
one raw OVSDB transaction (ovsdbapp, waiting for vswitchd's ``cur_cfg``) adding it as a port,
until it has an ``ofport`` — and with OVN, with ``iface-id`` naming a logical switch port, until
northbound reads ``up=true``. The device is the kind vifbind's plug gives OVS in that variant: a
tap, or for the hybrid plug one end of a veth pair (the userspace datapath takes some three times
as long to open one). The devices exist beforehand (made by one ``ip -batch``, outside the
timing), and everything is removed again so that vifbind starts on a clean bridge."""

from __future__ import annotations

import time
from typing import Any, Literal

from ovsdbapp.backend.ovs_idl import connection
from ovsdbapp.schema.open_vswitch import impl_idl as ovs_idl
from ovsdbapp.schema.ovn_northbound import impl_idl as nb_idl

from bench.common.compute import Compute
from vifbind.sandbox import run

MAKE = {
    "tap": "tuntap add dev {name} mode tap",
    "veth": "link add {name} type veth peer name {name}p",
}
"""The ``ip`` command that makes each device (deleting a veth's end deletes its peer)."""
TIMEOUT = 30.0
POLL = 0.0002  # seconds between two looks at the northbound replica this process holds


def _api(remote: str, schema: str, base: type[Any]) -> tuple[Any, Any]:
    idl = connection.OvsdbIdl.from_server(remote, schema)
    conn = connection.Connection(idl=idl, timeout=TIMEOUT)
    # A class per connection: ovsdbapp keeps one connection per API class.
    api = type(f"Bench{schema}", (base,), {"_ovsdb_connection": None})(conn)
    return api, conn


def measure(compute: Compute, count: int, device: Literal["tap", "veth"] = "tap") -> list[float]:
    """Milliseconds per device from add-port to ``ofport`` (or, with OVN, to ``up=true``)."""
    names = [f"vbfl{i}" for i in range(count)]
    _batch(compute, [MAKE[device].format(name=n) for n in names])
    ovs, ovs_conn = _api(compute.ovs.remote, "Open_vSwitch", ovs_idl.OvsdbIdl)
    nb: Any = None
    nb_conn: Any = None
    try:
        if compute.ovn is not None:
            nb, nb_conn = _api(compute.ovn.nb, "OVN_Northbound", nb_idl.OvnNbApiIdlImpl)
            with nb.transaction(check_error=True) as txn:
                txn.add(nb.ls_add("floor"))
                for name in names:
                    txn.add(nb.lsp_add("floor", name))
        return [_one(ovs, nb, name) for name in names]
    finally:
        with ovs.transaction(check_error=True) as txn:
            for name in names:
                txn.add(ovs.del_port(name, if_exists=True))
        if nb is not None:
            nb.ls_del("floor", if_exists=True).execute(check_error=True)
            nb_conn.stop()
        ovs_conn.stop()
        _batch(compute, [f"link del {n}" for n in names])


def _one(ovs: Any, nb: Any, name: str) -> float:
    external_ids = {"iface-id": name} if nb is not None else {}
    started = time.perf_counter()
    with ovs.transaction(check_error=True) as txn:
        txn.add(ovs.add_port("br-int", name))
        txn.add(ovs.db_set("Interface", name, ("external_ids", external_ids)))
    if nb is None:
        ofport = ovs.db_get("Interface", name, "ofport").execute(check_error=True)
        ofport = (ofport or [-1])[0] if isinstance(ofport, list) else ofport
        if ofport < 1:
            raise RuntimeError(f"vswitchd could not open {name}: ofport {ofport}")
        return 1000 * (time.perf_counter() - started)
    deadline = started + TIMEOUT
    while time.perf_counter() < deadline:
        row = nb.lookup("Logical_Switch_Port", name)
        if row.up and row.up[0]:
            return 1000 * (time.perf_counter() - started)
        time.sleep(POLL)
    raise RuntimeError(f"logical switch port {name} not up after {TIMEOUT:g} s")


def _batch(compute: Compute, commands: list[str]) -> None:
    script = compute.work / "floor.ip"
    script.write_text("\n".join(commands) + "\n")
    run("ip", "-n", compute.ns.name, "-batch", str(script))
