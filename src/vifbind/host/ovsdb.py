"""The host's Open vSwitch through native OVSDB: one replica of the few columns vifbind reads,
batched transactions.

The replica (the ``ovs`` library's IDL) monitors only the columns below. ovs-vswitchd rewrites
many others all the time (statistics, status, link state of every interface); monitoring them
made every such change cost this process a JSON parse and a copy. Reads come from the replica,
so taking the host's inventory costs no round trip, and the interfaces' views are rebuilt only
for the rows that changed since the last read.

Several ports are added (or removed) in one transaction, and the transaction returns only once
ovs-vswitchd has applied it (``next_cfg``/``cur_cfg``), so an interface vswitchd could not open
is known at once (``ofport`` -1 and its ``error`` column) instead of being reported plugged.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import ovs.db.idl
import ovs.jsonrpc
import ovs.poller
import ovs.stream

from vifbind.errors import PlugError
from vifbind.host.layout import OvsPortSpec

log = logging.getLogger(__name__)

DATABASE = "Open_vSwitch"
COLUMNS = {
    "Open_vSwitch": ["next_cfg", "cur_cfg", "iface_types"],
    "Bridge": ["name", "ports", "datapath_type"],
    "Port": ["name", "interfaces"],
    "Interface": ["name", "type", "external_ids", "mtu_request", "ofport", "error", "options"],
}
"""What the replica holds: what vifbind reads, and writes in its transactions."""

PORT_SECONDS = 0.1
"""Time allowed to ovs-vswitchd per port of a transaction, on top of the configured timeout:
the userspace datapath reconfigures for every port it removes (some 10-20 ms each here), so
a batch of 2,000 takes far longer than one port."""

OWNER_KEY = "vifbind-port"
"""external_ids key that marks an interface as created by vifbind for that port."""

Txn = ovs.db.idl.Transaction


@dataclass(frozen=True, slots=True)
class OvsInterface:
    """One interface as OVSDB has it."""

    name: str
    bridge: str | None
    type: str
    external_ids: dict[str, str]
    mtu_request: int | None
    ofport: int | None
    error: str | None
    options: dict[str, str] = field(default_factory=dict)

    @property
    def owner(self) -> str | None:
        """The port this interface was created for, when vifbind created it."""
        return self.external_ids.get(OWNER_KEY)


def _one(value: Any) -> Any:
    # The IDL gives optional columns as [] (absent) or [value].
    if isinstance(value, list):
        return value[0] if value else None
    return value


class _Replica(ovs.db.idl.Idl):  # type: ignore[misc]  # the ovs library is untyped
    """The IDL, noting which rows changed since the views were last brought up to date."""

    def __init__(self, remote: str, helper: Any) -> None:
        super().__init__(remote, helper)
        self.changed: dict[str, set[uuid.UUID]] = {table: set() for table in COLUMNS}

    def notify(self, event: str, row: Any, updates: Any = None) -> None:
        """Called by the IDL for every row it creates, updates or deletes."""
        self.changed[row._table.name].add(row.uuid)


class _Views:
    """The interfaces as vifbind reads them, kept up to date row by row from the replica."""

    def __init__(self) -> None:
        self.interfaces: dict[uuid.UUID, OvsInterface] = {}
        self.ports: dict[uuid.UUID, tuple[str, list[uuid.UUID]]] = {}
        self.bridges: dict[uuid.UUID, tuple[str, list[uuid.UUID]]] = {}
        self.port_by_name: dict[str, uuid.UUID] = {}
        self.bridge_of_port: dict[uuid.UUID, uuid.UUID] = {}

    def update(self, replica: _Replica) -> None:
        """Rebuild the views of the rows that changed in ``replica`` (or that it lost or gained
        unannounced, as after a reconnection that reloaded everything)."""
        tables, changed = replica.tables, replica.changed
        if _sync(tables["Bridge"].rows, self.bridges, changed["Bridge"], _members("ports")):
            self.bridge_of_port = {p: b for b, (_, ps) in self.bridges.items() for p in ps}
        if _sync(tables["Port"].rows, self.ports, changed["Port"], _members("interfaces")):
            self.port_by_name = {name: u for u, (name, _) in self.ports.items()}
        _sync(tables["Interface"].rows, self.interfaces, changed["Interface"], _interface)
        for rows in changed.values():
            rows.clear()
        bridge_of_iface = {
            iface: self.bridges[owner][0]
            for port, (_, ifaces) in self.ports.items()
            if (owner := self.bridge_of_port.get(port)) is not None
            for iface in ifaces
        }
        for u, view in self.interfaces.items():
            bridge = bridge_of_iface.get(u)
            if view.bridge != bridge:
                self.interfaces[u] = replace(view, bridge=bridge)


def _sync(
    rows: Any, views: dict[uuid.UUID, Any], changed: set[uuid.UUID], view: Callable[[Any], Any]
) -> bool:
    """Bring ``views`` of ``rows`` up to date; whether any changed."""
    gone = views.keys() - rows.keys()
    fresh = changed | (rows.keys() - views.keys())
    for u in gone:
        del views[u]
    for u in fresh:
        row = rows.get(u)
        if row is None:
            views.pop(u, None)
        else:
            views[u] = view(row)
    return bool(gone or fresh)


def _members(column: str) -> Callable[[Any], tuple[str, list[uuid.UUID]]]:
    """A row's name and the rows its ``column`` refers to."""
    return lambda row: (row.name, [member.uuid for member in getattr(row, column)])


def _interface(row: Any) -> OvsInterface:
    return OvsInterface(
        name=row.name,
        bridge=None,
        type=row.type,
        external_ids=dict(row.external_ids),
        mtu_request=_one(row.mtu_request),
        ofport=_one(row.ofport),
        error=_one(row.error),
        options=dict(row.options),
    )


class Ovsdb:
    """One OVSDB connection to the host's Open vSwitch, and its replica.

    A thread of its own keeps the replica current (and answers the server); every use of the
    replica, that thread's included, holds one lock.
    """

    def __init__(self, remote: str, timeout: float) -> None:
        self._remote = remote
        self._timeout = timeout
        helper = ovs.db.idl.SchemaHelper(schema_json=_schema(remote, timeout))
        for table, columns in COLUMNS.items():
            helper.register_columns(table, columns)
        self._idl = _Replica(remote, helper)
        self._views = _Views()
        self._seen = -1
        self._lock = threading.Condition()
        self._stopping = False
        self._wake_read, self._wake_write = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        self._thread = threading.Thread(target=self._serve, name="vifbind-ovsdb", daemon=True)
        self._thread.start()
        with self._lock:
            if not self._lock.wait_for(self._idl.has_ever_connected, timeout):
                self._stop()
                raise PlugError(f"cannot connect to OVSDB at {remote}: no answer in {timeout:g} s")

    def close(self) -> None:
        """Stop the connection's thread and close the connection."""
        self._stop()

    def _stop(self) -> None:
        with self._lock:
            if self._stopping:
                return
            self._stopping = True
        self._wake()
        self._thread.join()
        self._idl.close()
        os.close(self._wake_read)
        os.close(self._wake_write)

    def _wake(self) -> None:
        with contextlib.suppress(BlockingIOError):  # else a wake-up is pending already
            os.write(self._wake_write, b"\0")

    def _serve(self) -> None:
        """Receive what the server sends, apply it to the replica, tell waiting callers."""
        while True:
            with self._lock:
                if self._stopping:
                    return
                try:
                    self._idl.run()
                except Exception:
                    # The replica stays as it was; the connection is made again from scratch.
                    log.exception("OVSDB at %s: could not apply what the server sent", self._remote)
                    self._idl.force_reconnect()
                self._lock.notify_all()
                poller = ovs.poller.Poller()
                self._idl.wait(poller)
                poller.fd_wait(self._wake_read, ovs.poller.POLLIN)
            poller.block()
            with contextlib.suppress(BlockingIOError):
                while os.read(self._wake_read, 512):
                    pass

    # -- reads ---------------------------------------------------------------------------

    def _catch_up(self) -> None:
        """Apply what the server sent meanwhile (with the lock held), so that a read sees at
        least what was committed before it; then the views."""
        self._idl.run()
        if self._seen != self._idl.change_seqno:
            self._views.update(self._idl)
            self._seen = self._idl.change_seqno

    def iface_types(self) -> list[str]:
        """Interface types this vswitchd can create."""
        with self._lock:
            self._idl.run()
            root = self._root()
            return sorted(root.iface_types) if root is not None else []

    def bridge_datapath(self, bridge: str) -> str | None:
        """The datapath type of ``bridge`` (``system`` when unset), or ``None`` if absent."""
        with self._lock:
            self._idl.run()
            row = self._bridges().get(bridge)
            return None if row is None else str(row.datapath_type or "system")

    def interfaces(self) -> list[OvsInterface]:
        """Every interface, with the bridge it is on."""
        with self._lock:
            self._catch_up()
            return list(self._views.interfaces.values())

    def _root(self) -> Any:
        return next(iter(self._idl.tables["Open_vSwitch"].rows.values()), None)

    def _bridges(self) -> dict[str, Any]:
        return {row.name: row for row in self._idl.tables["Bridge"].rows.values()}

    # -- writes --------------------------------------------------------------------------

    def add_ports(self, specs: Sequence[OvsPortSpec]) -> dict[str, str]:
        """Add every port of ``specs`` in one transaction (replacing same-named ports) and wait
        until ovs-vswitchd applied it; return why it could not open some, by interface name."""
        if not specs:
            return {}
        added: dict[str, Any] = {}

        def build(txn: Any) -> None:
            added.clear()
            interfaces, ports = self._idl.tables["Interface"], self._idl.tables["Port"]
            bridges = self._bridges()
            for spec in specs:
                bridge = bridges.get(spec.bridge)
                if bridge is None:
                    raise PlugError(f"OVSDB: bridge {spec.bridge} does not exist")
                self._remove_port(spec.name)
                iface = txn.insert(interfaces)
                iface.name = spec.name
                iface.external_ids = spec.external_ids
                if spec.type:
                    iface.type = spec.type
                if spec.options:
                    iface.options = spec.options
                if spec.mtu_request is not None:
                    iface.mtu_request = spec.mtu_request
                port = txn.insert(ports)
                port.name = spec.name
                port.interfaces = [iface]
                bridge.addvalue("ports", port)
                added[spec.name] = iface.uuid

        txn = self._transact(f"add ports {_names(s.name for s in specs)}", build, len(specs))
        with self._lock:
            rows = self._idl.tables["Interface"].rows
            failed = {}
            for name, local in added.items():
                row = rows.get(txn.get_insert_uuid(local))
                ofport = _one(row.ofport) if row is not None else None
                if ofport is None or ofport < 0:
                    failed[name] = _one(row.error) if row is not None else "interface vanished"
            return failed

    def del_ports(self, names: Sequence[str]) -> None:
        """Remove every port of ``names`` in one transaction; absent ones are ignored."""

        def build(txn: Any) -> None:
            for name in names:
                self._remove_port(name)

        if names:
            self._transact(f"delete ports {_names(names)}", build, len(names))

    def _remove_port(self, name: str) -> None:
        """Take the port ``name`` (if any) off its bridge: OVSDB then deletes it and its
        interfaces, which nothing else refers to."""
        port = self._views.port_by_name.get(name)
        bridge = self._views.bridge_of_port.get(port) if port is not None else None
        if port is None or bridge is None:
            return
        rows = self._idl.tables["Bridge"].rows
        row = rows.get(bridge)
        if row is not None:
            row.delvalue("ports", self._idl.tables["Port"].rows[port])

    def _transact(self, what: str, build: Callable[[Any], None], ports: int) -> Any:
        """Commit what ``build`` writes into a transaction, with ``next_cfg`` incremented, and
        wait until ovs-vswitchd applied it (``cur_cfg``); the committed transaction."""
        deadline = time.monotonic() + self._timeout + PORT_SECONDS * ports
        with self._lock:
            while (txn := self._attempt(what, build, deadline)) is None:
                pass
            if txn.commit() == Txn.SUCCESS:
                applied = txn.get_increment_new_value()
                # The views of the rows it changed are rebuilt by the next read, not here:
                # the caller is told sooner that its ports are in place.
                self._wait(what, deadline, lambda: (_one(self._root_cfg()) or 0) >= applied)
            return txn

    def _attempt(self, what: str, build: Callable[[Any], None], deadline: float) -> Any:
        """One try at committing (the lock held): the transaction once the server took it, or
        ``None`` once it is worth building again (it failed for a transient reason, such as a
        reconnection or a concurrent change, and the replica changed since)."""
        self._catch_up()
        seqno = self._idl.change_seqno
        txn = Txn(self._idl)
        try:
            build(txn)
            root = self._root()
            if root is None:
                raise PlugError(f"OVSDB {what}: the Open_vSwitch table is empty")
            root.increment("next_cfg")
        except BaseException:
            txn.abort()
            raise
        txn.commit()
        self._wake()
        self._wait(what, deadline, lambda: txn.commit() != Txn.INCOMPLETE)
        status = txn.commit()
        if status in (Txn.SUCCESS, Txn.UNCHANGED):
            return txn
        if status != Txn.TRY_AGAIN:
            raise PlugError(f"OVSDB {what}: {txn.get_error()}")
        self._wait(what, deadline, lambda: self._idl.change_seqno != seqno)
        return None

    def _root_cfg(self) -> Any:
        root = self._root()
        return root.cur_cfg if root is not None else None

    def _wait(self, what: str, deadline: float, done: Callable[[], bool]) -> None:
        """Wait (the lock held, released while waiting) until ``done()``."""
        if not self._lock.wait_for(done, max(0.0, deadline - time.monotonic())):
            connected = self._idl._session.is_connected()
            why = "ovs-vswitchd did not apply it" if connected else "OVSDB is not reachable"
            raise PlugError(f"OVSDB {what}: timed out ({why})")


def _names(names: Iterable[str]) -> str:
    return ", ".join(names)


def _schema(remote: str, timeout: float) -> Any:
    """The database's schema, asked of the server itself."""
    failure = f"cannot connect to OVSDB at {remote}"
    error, stream = ovs.stream.Stream.open_block(ovs.stream.Stream.open(remote), timeout * 1000)
    if error:
        raise PlugError(f"{failure}: {os.strerror(error)}")
    rpc = ovs.jsonrpc.Connection(stream)
    try:
        request = ovs.jsonrpc.Message.create_request("get_schema", [DATABASE])
        error = rpc.send(request)
        deadline = time.monotonic() + timeout
        while not error:
            error, reply = rpc.recv()
            if error == errno.EAGAIN:
                if time.monotonic() > deadline:
                    raise PlugError(f"{failure}: no answer in {timeout:g} s")
                poller = ovs.poller.Poller()
                rpc.run()
                rpc.wait(poller)
                rpc.recv_wait(poller)
                poller.timer_wait(int(1000 * max(0.0, deadline - time.monotonic())) + 1)
                poller.block()
                error = 0
                continue
            if error:
                break
            if reply.id == request.id:
                if reply.error:
                    raise PlugError(f"{failure}: {reply.error}")
                return reply.result
        raise PlugError(f"{failure}: {os.strerror(error)}")
    finally:
        rpc.close()
