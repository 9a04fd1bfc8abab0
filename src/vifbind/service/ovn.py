"""The OVN northbound side of the ``ovn`` backend: logical switches, ports and port groups.

The service calls :class:`OvnNorthbound` after a binding whose backend is ``ovn`` is bound
(:meth:`~OvnNorthbound.ensure_port`), when a port or network is deleted, and listens to
:meth:`~OvnNorthbound.watch_up` for the "plugged" signal: ovn-controller on the host claims the
port by its OVS interface's ``external_ids:iface-id`` and ovn-northd sets the logical port's
``up`` column.

It speaks OVSDB natively through ovsdbapp: one IDL replica of the tables it needs, and one
transaction per call whatever the number of rows it touches. Everything it creates carries
``external_ids:vifbind:owner=vifbind``; it reads, changes and deletes nothing without that mark.

What NB contains for a network and a port:

- ``Logical_Switch`` named after the network id, ``external_ids`` ``vifbind:network_name``,
  ``other_config:mtu``; one ``localnet`` port per flat or vlan segment (``options:network_name``
  = the physnet, ``tag_request`` = the VLAN id), named by :func:`localnet_port_name`.
- ``Logical_Switch_Port`` named after the port id: ``addresses`` ``"MAC IP…"``;
  ``port_security`` the same plus one ``"MAC IP-or-prefix"`` entry per allowed address pair
  when the port's ``port_security`` is on, empty when off; ``external_ids``
  ``vifbind:network_id`` and ``vifbind:device_id``.
- One ``Port_Group`` per security group (:func:`port_group_name`) with its ports as members
  and a default pair of ACLs: outbound IP traffic ``allow-related``, inbound IP traffic
  ``drop``. OVN's conntrack stage lets replies of allowed (established) connections back in, so
  the group means "drop inbound except established, allow outbound". Rules are not modelled
  yet; an empty group is deleted with its ACLs.

Reachability: the connection is made on first use. Calls made while NB cannot be reached wait
up to ``timeout`` seconds and then raise :class:`~vifbind.errors.OvnUnavailable`. When NB
restarts, the python-ovs session under ovsdbapp reconnects by itself (one attempt per second)
and reloads the replica; calls made meanwhile ride through the restart if it is shorter than
their timeout, later calls succeed, watches go on, and up-state changes that happened while
the connection was down are delivered to the watchers after the reload.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from typing import Any, Self

from ovsdbapp import exceptions as ovsdb_exceptions
from ovsdbapp.backend.ovs_idl import command, connection, event, idlutils
from ovsdbapp.schema.ovn_northbound import impl_idl

from vifbind.contract import Network, Port
from vifbind.errors import InvalidInput, OvnConflict, OvnError, OvnUnavailable

LOG = logging.getLogger(__name__)

OWNER_KEY = "vifbind:owner"
"""The ``external_ids`` key marking an NB row as vifbind's (value :data:`OWNER`)."""
OWNER = "vifbind"

UpCallback = Callable[[str, bool], None]
"""Called with (port id, up) when a vifbind logical switch port's ``up`` state changes."""

# The replica holds only what vifbind reads: a full NB replica costs memory and CPU per update.
_TABLES = ("Logical_Switch", "Logical_Switch_Port", "Port_Group", "ACL")
_LS, _LSP, _PG, _ACL = _TABLES
# Milliseconds between two attempts to reconnect to a northbound database that went away.
_RECONNECT_MS = 1000
_PHYSNET_SEGMENTS = frozenset({"flat", "vlan"})
_NOT_IN_OVN_NAMES = re.compile(r"[^A-Za-z0-9]")

_Row = Any
"""An ovs.db.idl.Row: untyped, columns as attributes."""


def port_group_name(security_group: str) -> str:
    """The ``Port_Group`` name of a security group.

    OVN names port groups like identifiers (``[A-Za-z_][A-Za-z0-9_]*``, used as ``@name`` in
    ACL matches), while security group names may contain ``.``, ``:`` and ``-``. Every byte
    other than a letter or digit becomes ``_`` and its hex code, ``_`` included, so that two
    distinct groups never share a port group.
    """
    escaped = _NOT_IN_OVN_NAMES.sub(lambda m: f"_{ord(m.group()):02x}", security_group)
    return f"vifbind_{escaped}"


def localnet_port_name(network_id: str, physnet: str) -> str:
    """The name of the ``localnet`` port joining a network's switch to a physical network."""
    return f"vifbind-localnet-{network_id}-{physnet}"


def _addresses(port: Port) -> list[str]:
    return [" ".join([port.mac, *port.fixed_ips])]


def _port_security(port: Port) -> list[str]:
    if not port.port_security:
        return []
    pairs = [f"{pair.mac or port.mac} {pair.ip}" for pair in port.allowed_address_pairs]
    return [*_addresses(port), *pairs]


def _default_acls(group: str) -> list[dict[str, Any]]:
    name = port_group_name(group)
    marks = {OWNER_KEY: OWNER, "vifbind:security_group": group}
    return [
        {
            "direction": "from-lport",
            "priority": 1002,
            "match": f"inport == @{name} && ip",
            "action": "allow-related",
            "external_ids": marks,
        },
        {
            "direction": "to-lport",
            "priority": 1001,
            "match": f"outport == @{name} && ip",
            "action": "drop",
            "external_ids": marks,
        },
    ]


def _owned(row: _Row) -> bool:
    return bool(row.external_ids.get(OWNER_KEY) == OWNER)


def _is_vif(row: _Row) -> bool:
    """A vifbind port that a guest plugs (not a localnet port)."""
    return row.type == "" and _owned(row)


def _up(row: _Row) -> bool:
    # `up` is an optional boolean: [] until northd has written it.
    return bool(row.up and row.up[0])


class _Rows:
    """The NB replica as one transaction reads and writes it (in ovsdbapp's connection thread)."""

    def __init__(self, api: Any, txn: Any) -> None:
        self._api = api
        self._txn = txn

    def all(self, table: str) -> list[_Row]:
        return list(self._api.tables[table].rows.values())

    def named(self, table: str, name: str) -> list[_Row]:
        return list(idlutils.rows_by_value(self._api.idl, table, "name", name))

    def insert(self, table: str, **columns: Any) -> _Row:
        row = self._txn.insert(self._api.tables[table])
        for column, value in columns.items():
            setattr(row, column, value)
        return row

    def own(self, table: str, name: str) -> _Row | None:
        """vifbind's row of that name, or None; a row of that name without the mark is a
        conflict (a name vifbind must not take over)."""
        rows = self.named(table, name)
        for row in rows:
            if _owned(row):
                return row
        if rows:
            raise OvnConflict(
                f"{table} {name!r} exists in the OVN northbound database without "
                f"external_ids:{OWNER_KEY}={OWNER}; vifbind does not touch objects it did not "
                "create"
            )
        return None


# The replica may lag behind other clients' changes. Where a decision rests on what a row
# holds (is a port group empty, does a switch hold foreign ports), the transaction verifies
# that column: if it changed meanwhile, OVSDB refuses the transaction and ovsdbapp runs the
# change again on the updated replica.


def _refs(row: _Row, column: str) -> list[_Row]:
    """The rows a reference column points to, as this transaction left them.

    Reference sets are only ever changed by addvalue/delvalue (python-ovs reads a written
    column without the pending mutations), so a row inserted here may have none yet.
    """
    try:
        refs = getattr(row, column)
    except AttributeError:
        return []
    # A row deleted earlier in the same transaction reads back as None.
    return [ref for ref in refs if ref is not None]


def _ensure_switch(rows: _Rows, network: Network) -> _Row:
    switch = rows.own(_LS, network.id)
    if switch is None:
        switch = rows.insert(_LS, name=network.id, external_ids={}, other_config={})
    switch.external_ids = {
        **switch.external_ids,
        OWNER_KEY: OWNER,
        "vifbind:network_name": network.name,
    }
    switch.other_config = {**switch.other_config, "mtu": str(network.mtu)}
    _sync_localnets(rows, switch, network)
    return switch


def _sync_localnets(rows: _Rows, switch: _Row, network: Network) -> None:
    wanted = {
        localnet_port_name(network.id, segment.physnet): segment
        for segment in network.segments
        if segment.type in _PHYSNET_SEGMENTS and segment.physnet is not None
    }
    for lsp in _refs(switch, "ports"):
        if lsp.type == "localnet" and _owned(lsp) and lsp.name not in wanted:
            switch.delvalue("ports", lsp)
            lsp.delete()
    for name, segment in wanted.items():
        lsp = rows.own(_LSP, name)
        if lsp is None:
            lsp = rows.insert(_LSP, name=name)
        if lsp not in _refs(switch, "ports"):
            _move_port(rows, lsp, switch)
        lsp.type = "localnet"
        lsp.addresses = ["unknown"]
        lsp.options = {"network_name": segment.physnet}
        lsp.tag_request = [segment.segmentation_id] if segment.type == "vlan" else []
        lsp.external_ids = {OWNER_KEY: OWNER, "vifbind:network_id": network.id}


def _move_port(rows: _Rows, lsp: _Row, switch: _Row) -> None:
    for other in rows.all(_LS):
        if lsp in _refs(other, "ports"):
            other.delvalue("ports", lsp)
    switch.addvalue("ports", lsp)


def _ensure_port(rows: _Rows, network: Network, port: Port) -> None:
    switch = _ensure_switch(rows, network)
    lsp = rows.own(_LSP, port.id)
    if lsp is None:
        lsp = rows.insert(_LSP, name=port.id, external_ids={})
    if lsp not in _refs(switch, "ports"):
        _move_port(rows, lsp, switch)
    lsp.addresses = _addresses(port)
    lsp.port_security = _port_security(port)
    lsp.external_ids = {
        **lsp.external_ids,
        OWNER_KEY: OWNER,
        "vifbind:network_id": network.id,
        "vifbind:device_id": port.device_id,
    }
    _sync_groups(rows, lsp, port.security_groups)


def _sync_groups(rows: _Rows, lsp: _Row, groups: list[str]) -> None:
    wanted = {port_group_name(group): group for group in groups}
    for pg in rows.all(_PG):
        if _owned(pg) and pg.name not in wanted and lsp in _refs(pg, "ports"):
            _leave_group(pg, lsp)
    for name, group in wanted.items():
        pg = rows.own(_PG, name)
        if pg is None:
            acls = [rows.insert(_ACL, **acl) for acl in _default_acls(group)]
            pg = rows.insert(
                _PG,
                name=name,
                acls=acls,
                external_ids={OWNER_KEY: OWNER, "vifbind:security_group": group},
            )
        if lsp not in _refs(pg, "ports"):
            pg.addvalue("ports", lsp)


def _leave_group(pg: _Row, lsp: _Row) -> None:
    pg.verify("ports")
    if any(member != lsp for member in _refs(pg, "ports")):
        pg.delvalue("ports", lsp)
    else:
        # Deleting the group deletes its ACLs too (they are not root rows).
        pg.delete()


def _remove_port(rows: _Rows, switch: _Row | None, lsp: _Row) -> None:
    for pg in rows.all(_PG):
        if _owned(pg) and lsp in _refs(pg, "ports"):
            _leave_group(pg, lsp)
    for parent in [switch] if switch is not None else rows.all(_LS):
        if lsp in _refs(parent, "ports"):
            parent.delvalue("ports", lsp)
    lsp.delete()


def _delete_port(rows: _Rows, port_id: str) -> None:
    for lsp in rows.named(_LSP, port_id):
        if _owned(lsp):
            _remove_port(rows, None, lsp)
        else:
            LOG.warning("OVN: not deleting logical switch port %s: it is not vifbind's", port_id)


def _delete_network(rows: _Rows, network_id: str) -> None:
    for switch in rows.named(_LS, network_id):
        if not _owned(switch):
            LOG.warning("OVN: not deleting logical switch %s: it is not vifbind's", network_id)
            continue
        switch.verify("ports")
        foreign = []
        for lsp in _refs(switch, "ports"):
            if _owned(lsp):
                _remove_port(rows, switch, lsp)
            else:
                foreign.append(lsp.name)
        if foreign:
            # Deleting the switch would delete ports someone else created on it.
            LOG.warning(
                "OVN: keeping logical switch %s: it holds ports vifbind did not create (%s)",
                network_id,
                ", ".join(sorted(foreign)),
            )
        else:
            switch.delete()


class _Change(command.BaseCommand):  # type: ignore[misc]  # ovsdbapp is untyped
    """One vifbind change, run on the IDL replica inside an ovsdbapp transaction."""

    def __init__(self, api: Any, apply: Callable[[_Rows], None]) -> None:
        super().__init__(api)
        self._apply = apply

    def run_idl(self, txn: Any) -> None:
        self._apply(_Rows(self.api, txn))


class _NbApi(impl_idl.OvnNbApiIdlImpl):  # type: ignore[misc]  # ovsdbapp is untyped
    """ovsdbapp's northbound API bound to its own connection.

    ovsdbapp keeps the connection on the API *class* (the first instance's wins for the whole
    process); vifbind may talk to several northbound databases from one process.
    """

    @property
    def ovsdb_connection(self) -> Any:
        return self._vifbind_connection

    @ovsdb_connection.setter
    def ovsdb_connection(self, value: Any) -> None:
        self._vifbind_connection = value


class _UpWatch(event.RowEvent):  # type: ignore[misc]  # ovsdbapp is untyped
    """Delivers (port id, up) for vifbind's ports, once per actual change.

    It keeps the last state it delivered per port: ovsdbapp reports every update of a port,
    and a reconnect reloads the replica as if every row were new, so comparing is what turns
    row events into state changes (and replays the changes missed while disconnected).
    """

    def __init__(self, callback: UpCallback, known: dict[str, bool]) -> None:
        super().__init__((self.ROW_CREATE, self.ROW_UPDATE, self.ROW_DELETE), _LSP, None)
        self._callback = callback
        self._known = known

    # Each watch is its own subscription; ovsdbapp would merge equal events into one.
    __eq__ = object.__eq__
    __hash__ = object.__hash__

    def match_fn(self, event: str, row: _Row, old: _Row | None) -> bool:
        return _is_vif(row)

    def run(self, event: str, row: _Row, old: _Row | None) -> None:
        if event == self.ROW_DELETE:
            self._known.pop(row.name, None)
            return
        up = _up(row)
        if self._known.get(row.name, False) != up:
            self._known[row.name] = up
            self._callback(row.name, up)


class OvnNorthbound:
    """vifbind's objects in one OVN northbound database.

    ``connection`` is an OVSDB remote (``unix:/run/ovn/ovnnb_db.sock``, ``tcp:IP:PORT``, or
    several separated by commas for a clustered NB). ``timeout`` bounds every call, in seconds.
    Thread-safe; one instance per NB database and process is enough. Close it with
    :meth:`close` (or use it as a context manager).
    """

    def __init__(self, connection: str, timeout: float = 5.0) -> None:
        self.connection = connection
        self.timeout = timeout
        self._lock = threading.Lock()
        self._api: Any = None
        self._events: Any = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def ensure_port(self, network: Network, port: Port) -> None:
        """Create or update the network's switch and the port's logical switch port, in one
        transaction. Idempotent: a second call with changed data updates in place.

        Raises InvalidInput when the port is not on ``network``, OvnConflict when a switch,
        port or port group of the same name exists without vifbind's mark, OvnUnavailable when
        NB cannot be reached.
        """
        if port.network_id != network.id:
            raise InvalidInput(
                f"port.network_id: port {port.id} is on network {port.network_id}, "
                f"not on {network.id}"
            )
        self._apply(f"ensure port {port.id}", lambda rows: _ensure_port(rows, network, port))

    def delete_port(self, port_id: str) -> None:
        """Delete vifbind's logical switch port ``port_id`` and its port group memberships
        (and groups left empty). Absent is not an error; a port without vifbind's mark stays."""
        self._apply(f"delete port {port_id}", lambda rows: _delete_port(rows, port_id))

    def delete_network(self, network_id: str) -> None:
        """Delete vifbind's logical switch ``network_id`` with vifbind's ports on it.

        Absent is not an error. Ports on it that vifbind did not create are left alone, and so
        is the switch that holds them (with a warning in the log). The switch's port list is
        verified by the transaction, so a port another client adds meanwhile is never deleted
        with it; a foreign port removed a moment ago may still keep the switch until vifbind's
        replica has seen that: calling again removes it.
        """
        self._apply(f"delete network {network_id}", lambda rows: _delete_network(rows, network_id))

    def ports_up(self) -> dict[str, bool]:
        """The ``up`` state of every vifbind port, by port id (for a resync).

        Waits up to ``timeout`` for a connection and raises OvnUnavailable without one, rather
        than answer from a replica that may be stale.
        """
        api = self._connected("read port states")
        with api.ovsdb_connection.lock:
            return {row.name: _up(row) for row in api.tables[_LSP].rows.values() if _is_vif(row)}

    def watch_up(self, callback: UpCallback) -> Callable[[], None]:
        """Call ``callback(port_id, up)`` whenever a vifbind port's ``up`` state changes.

        Push-based (the IDL's monitor updates); a port that appears down is not a change, one
        that is deleted is forgotten silently. Every change after this call is delivered, so a
        resync that misses nothing starts the watch first and then reads :meth:`ports_up`
        (a state may then be seen twice, which is harmless). The callback runs on ovsdbapp's
        notification thread: keep it short and hand over to your own loop (e.g.
        ``loop.call_soon_threadsafe``); an exception in it is logged and the watch goes on.
        Returns a function that stops the watch.
        """
        api = self._nb()
        with api.ovsdb_connection.lock:
            known = {row.name: _up(row) for row in api.tables[_LSP].rows.values() if _is_vif(row)}
            watch = _UpWatch(callback, known)
            self._events.watch_event(watch)
        handler = self._events
        return lambda: handler.unwatch_event(watch)

    def close(self) -> None:
        """Stop watching and close the connection. The instance reconnects if used again."""
        with self._lock:
            api, handler = self._api, self._events
            self._api = self._events = None
        if api is not None:
            handler.shutdown()
            api.ovsdb_connection.stop(timeout=self.timeout)

    def _nb(self) -> Any:
        with self._lock:
            if self._api is None:
                self._api, self._events = self._connect()
            return self._api

    def _connect(self) -> tuple[Any, Any]:
        try:
            idl = connection.OvsdbIdl.from_server(
                self.connection, "OVN_Northbound", helper_tables=_TABLES
            )
            # python-ovs backs off up to 8 s between attempts; a restarted NB should see
            # vifbind back within a second (one connect attempt per second while it is down).
            idl._session.reconnect.set_backoff(_RECONNECT_MS, _RECONNECT_MS)
            # Backend.__init__ starts the connection and waits for the first full dump.
            api = _NbApi(connection.Connection(idl, timeout=self.timeout))
        except Exception as exc:
            raise OvnUnavailable(
                f"cannot reach the OVN northbound database at {self.connection} "
                "(is its ovsdb-server running and listening there?)"
            ) from exc
        handler = event.RowEventHandler()
        api.idl.notify = handler.notify
        return api, handler

    def _is_connected(self, api: Any) -> bool:
        # python-ovs exposes no public "connected now": the IDL keeps its last replica (and
        # its MONITORING state) while the session is down and reconnecting.
        with api.ovsdb_connection.lock:
            idl = api.idl
            return bool(idl._session.is_connected() and idl.state == idl.IDL_S_MONITORING)

    def _connected(self, what: str) -> Any:
        api = self._nb()
        deadline = time.monotonic() + self.timeout
        while not self._is_connected(api):
            if time.monotonic() >= deadline:
                raise self._unavailable(what)
            time.sleep(0.05)
        return api

    def _unavailable(self, what: str, hint: str = "") -> OvnUnavailable:
        return OvnUnavailable(
            f"{what}: the OVN northbound database at {self.connection} did not answer "
            f"within {self.timeout:g} s{hint}"
        )

    def _apply(self, what: str, change: Callable[[_Rows], None]) -> None:
        api = self._nb()
        txn = api.create_transaction(check_error=True, log_errors=False)
        txn.add(_Change(api, change))
        try:
            txn.commit()
        except ovsdb_exceptions.TimeoutException:
            raise self._unavailable(
                what,
                "; the change may still be applied when it is back (every operation is "
                "idempotent: retry it)",
            ) from None
        except OvnError:
            raise
        except RuntimeError as exc:
            if not self._is_connected(api):
                raise self._unavailable(what) from None
            raise OvnError(f"{what}: the OVN northbound database refused it: {exc}") from None
