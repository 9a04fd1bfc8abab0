"""Keeping OVN northbound in step with the ``ovn`` backend's bindings, and turning OVN's ``up``
into the same plugged signal every other backend gives.

While a port has a bound ``ovn`` binding, its logical switch port exists in NB with the port's
current addresses and port security (written inside the binding's transaction, so that a bound
binding never exists without it). When ovn-controller claims the port on a host and ovn-northd
sets ``up``, the port's ``ovn`` binding is marked plugged — on every replica that watches, and
idempotently.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable

from vifbind.service import bindings, networks, ports
from vifbind.service.ovn import OvnNorthbound
from vifbind.service.storage import binding_rows
from vifbind.service.storage.database import Database, WriteTx

log = logging.getLogger(__name__)


def sync_port(tx: WriteTx, nb: OvnNorthbound, port_id: str) -> None:
    """Write the port's logical switch port when one of its bindings is bound by ``ovn``."""
    connection = tx.connection()
    if not binding_rows.has_bound(connection, port_id, "ovn"):
        return
    port = ports.read(connection, port_id)
    network = networks.read(connection, port.network_id)
    nb.ensure_port(network, port)


class UpWatcher:
    """Applies OVN ``up`` changes to bindings, one at a time, on a thread of its own (the
    northbound client calls back on its notification thread, which must not wait for the
    database)."""

    def __init__(self, nb: OvnNorthbound, db: Database, published: Callable[[int], None]) -> None:
        self._nb = nb
        self._db = db
        self._published = published
        self._changes: queue.Queue[tuple[str, bool] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="vifbind-ovn-up", daemon=True)
        self._stop_watch: Callable[[], None] | None = None

    def start(self) -> None:
        """Watch first, then read the current state, so that no change falls in between."""
        self._thread.start()
        self._stop_watch = self._nb.watch_up(lambda port, up: self._changes.put((port, up)))
        for port_id, up in self._nb.ports_up().items():
            self._changes.put((port_id, up))

    def stop(self) -> None:
        """Stop watching and finish the changes already received."""
        if self._stop_watch is not None:
            self._stop_watch()
        self._changes.put(None)
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while (change := self._changes.get()) is not None:
            port_id, up = change
            try:
                self._apply(port_id, up)
            except Exception:  # one bad update must not stop the watcher
                log.exception("cannot record OVN up=%s for port %s", up, port_id)

    def _apply(self, port_id: str, up: bool) -> None:
        with self._db.read() as session:
            target = bindings.network_signal_target(session.connection(), port_id, "ovn", up)
            if target is None:
                return  # nothing to change: no revision spent
        with self._db.write() as tx:
            if bindings.record_network_signal(tx, port_id, "ovn", up):
                tx.after_commit.append(lambda: self._published(tx.revision))
