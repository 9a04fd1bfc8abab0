"""What one running service process holds: settings, database, deciders, metrics, notifier."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TypeVar

from sqlalchemy import func, select

from vifbind.errors import ServiceUnavailable
from vifbind.service.bindings import Decider
from vifbind.service.group_commit import GroupCommit
from vifbind.service.metrics import Metrics
from vifbind.service.notifier import Notifier, PostgresListener
from vifbind.service.ovn import OvnNorthbound
from vifbind.service.ovn_sync import UpWatcher, sync_port
from vifbind.service.settings import ServiceSettings
from vifbind.service.storage.database import Database, WriteTx
from vifbind.service.storage.tables import BindingRow

T = TypeVar("T")


@dataclass
class ServiceState:
    """Shared by every request of one process; ``notifier`` and ``group`` exist once the app has
    started."""

    settings: ServiceSettings
    db: Database
    decider: Decider
    metrics: Metrics = field(init=False)
    nb: OvnNorthbound | None = None
    notifier: Notifier | None = None
    listener: PostgresListener | None = None
    up_watcher: UpWatcher | None = None
    group: GroupCommit | None = None

    def __post_init__(self) -> None:
        self.metrics = Metrics(self.count_bindings)

    @contextmanager
    def write(self) -> Iterator[WriteTx]:
        """A write transaction whose revision wakes this process's watchers once committed
        (other replicas learn it through NOTIFY)."""
        with self.db.write() as tx:
            notifier = self.notifier
            if notifier is not None:
                tx.after_commit.append(lambda: notifier.publish(tx.revision))
            yield tx

    async def write_grouped(self, work: Callable[[WriteTx], T]) -> T:
        """Run ``work`` in a write transaction of its own revision, grouped with other requests'
        (``GroupCommit``): its value once committed; watchers are woken after the commit."""
        if self.group is None:
            raise ServiceUnavailable("the service is not started")
        return await self.group.write(work)

    def after_port_change(self, tx: WriteTx, port_id: str) -> None:
        """Bring the network's own state in step with the port's bindings (OVN northbound)."""
        if self.nb is not None:
            sync_port(tx, self.nb, port_id)

    def before_port_delete(self, port_id: str) -> None:
        """Remove what the network holds for a port about to be deleted."""
        if self.nb is not None:
            self.nb.delete_port(port_id)

    def before_network_delete(self, network_id: str) -> None:
        """Remove what the network holds for a network about to be deleted."""
        if self.nb is not None:
            self.nb.delete_network(network_id)

    def count_bindings(self) -> list[tuple[str, str, int]]:
        """Bindings stored, by (status, backend)."""
        with self.db.read() as session:
            rows = session.execute(
                select(BindingRow.status, BindingRow.backend, func.count()).group_by(
                    BindingRow.status, BindingRow.backend
                )
            ).all()
        return [(status, backend or "", int(n)) for status, backend, n in rows]
