"""Group commit (``vifbind.service.group_commit``): binds made in parallel are all stored with
their events, each under a revision of its own; a request refused or failing inside a batch is
rolled back alone; watchers are woken only once the batch is committed — on SQLite and
PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from vifbind.contract import Binding, BindRequest
from vifbind.errors import Conflict, NotFound
from vifbind.service import bindings
from vifbind.service.group_commit import GroupCommit
from vifbind.service.storage import binding_rows
from vifbind.service.storage.database import Database, WriteTx
from vifbind.service.storage.tables import EVENTS

from builders import host, vxlan
from harness import RunningService

HOSTS = ("cmp-1", "cmp-2")


def ports_on_hosts(service: RunningService, count: int) -> list[str]:
    api = service.client()
    for name in HOSTS:
        api.report_host(host(name))
    network = api.create_network([vxlan()])
    return [api.create_port(network.id).id for _ in range(count)]


def binder(
    service: RunningService, port_id: str, host_name: str, if_match: int | None = None
) -> Callable[[WriteTx], Binding]:
    """A work binding ``port_id`` to ``host_name`` as the bind endpoint does."""

    def work(tx: WriteTx) -> Binding:
        binding, _ = bindings.bind(
            tx, service.state.decider, port_id, BindRequest(host=host_name), if_match
        )
        return binding

    return work


def events_of(db: Database, port_id: str) -> list[tuple[int, str, str]]:
    with db.read() as session:
        rows = session.execute(
            select(EVENTS.c.revision, EVENTS.c.kind, EVENTS.c.host)
            .where(EVENTS.c.port_id == port_id)
            .order_by(EVENTS.c.revision)
        )
        return [(r.revision, r.kind, r.host) for r in rows]


def test_parallel_binds_of_many_ports_are_all_stored_with_their_events(
    service: RunningService,
) -> None:
    port_ids = ports_on_hosts(service, 120)
    api = service.client()
    before = api.events().revision

    def bind(i: int) -> tuple[str, int]:
        binding = service.client().bind(port_ids[i], HOSTS[i % 2])
        return binding.port_id, binding.revision

    with ThreadPoolExecutor(max_workers=32) as pool:
        answered = list(pool.map(bind, range(len(port_ids))))

    revisions = [revision for _, revision in answered]
    assert len(set(revisions)) == len(port_ids), "each bind has a revision of its own"
    assert min(revisions) > before
    for i, (port_id, revision) in enumerate(answered):
        stored = api.get_binding(port_id, HOSTS[i % 2])
        assert (stored.status, stored.revision, stored.active) == ("bound", revision, True)
        assert events_of(service.state.db, port_id) == [(revision, "bound", HOSTS[i % 2])]


def test_a_failing_work_in_a_batch_is_rolled_back_alone(service: RunningService) -> None:
    port_ids = ports_on_hosts(service, 4)
    db = service.state.db
    bound = service.client().bind(port_ids[3], "cmp-1")

    def duplicate_row(tx: WriteTx) -> None:
        # An event, then a row that already exists: the database refuses it.
        doc = bound.model_dump(mode="json")
        binding_rows.insert_event(tx.connection(), tx.revision, "bound", doc, tx.now)
        binding_rows.insert_row(tx.connection(), bound.port_id, bound.host, {"doc": doc})

    outcomes = db.write_each(
        [
            binder(service, port_ids[0], "cmp-1"),
            binder(service, port_ids[1], "cmp-1", if_match=1),  # no binding to match: 409
            duplicate_row,
            binder(service, "00000000-0000-4000-8000-000000000000", "cmp-1"),  # no such port
            binder(service, port_ids[2], "cmp-2"),
        ]
    )

    assert [type(o.error) for o in outcomes] == [
        type(None), Conflict, IntegrityError, NotFound, type(None)
    ]  # fmt: skip
    first, last = outcomes[0], outcomes[4]
    assert (first.revision or 0) + 1 == last.revision, "a rolled-back work leaves no revision"
    assert events_of(db, port_ids[0]) == [(first.revision, "bound", "cmp-1")]
    assert events_of(db, port_ids[2]) == [(last.revision, "bound", "cmp-2")]
    assert events_of(db, port_ids[1]) == []
    assert events_of(db, port_ids[3]) == [(bound.revision, "bound", "cmp-1")]
    api = service.client()
    assert [b.host for b in api.list_bindings(port_ids[1])] == []
    assert api.get_binding(port_ids[0], "cmp-1").revision == first.revision
    assert api.get_binding(port_ids[3], "cmp-1") == bound


def test_refused_requests_among_parallel_binds_get_their_own_errors(
    service: RunningService,
) -> None:
    port_ids = ports_on_hosts(service, 40)

    def bind(i: int) -> int:
        # Every fourth request names a revision its port's binding does not have.
        revision = 1 if i % 4 == 0 else None
        api = service.client()
        try:
            api.bind(port_ids[i], "cmp-1", revision=revision)
        except Conflict as exc:
            assert exc.field == "If-Match"
            return 409
        return 201

    with ThreadPoolExecutor(max_workers=32) as pool:
        statuses = list(pool.map(bind, range(len(port_ids))))

    assert statuses == [409 if i % 4 == 0 else 201 for i in range(len(port_ids))]
    api = service.client()
    for i, port_id in enumerate(port_ids):
        assert len(api.list_bindings(port_id)) == (0 if i % 4 == 0 else 1)


def test_watchers_are_told_only_after_the_batch_is_committed(service: RunningService) -> None:
    port_ids = ports_on_hosts(service, 8)
    db = service.state.db
    seen: list[tuple[int, int]] = []

    def on_commit(revision: int) -> None:
        # Read on a connection of its own: only what is committed is visible there.
        with db.read() as session:
            stored = session.execute(
                select(func.count()).select_from(EVENTS).where(EVENTS.c.revision <= revision)
            ).scalar_one()
            newest = session.execute(select(func.max(EVENTS.c.revision))).scalar_one()
        seen.append((revision, newest))
        assert stored > 0

    async def scenario() -> list[Binding]:
        group = GroupCommit(db, asyncio.get_running_loop(), on_commit)
        group.start()
        try:
            return await asyncio.gather(
                *(group.write(binder(service, p, "cmp-2")) for p in port_ids)
            )
        finally:
            group.stop()

    answered = asyncio.run(scenario())
    revisions = sorted(b.revision for b in answered)
    assert len(set(revisions)) == len(port_ids)
    assert seen, "the commit is announced"
    assert seen[-1][0] == revisions[-1]
    for announced, committed in seen:
        assert committed >= announced, "announced before its commit"


def test_a_watcher_wakes_for_a_grouped_bind(service: RunningService) -> None:
    port_ids = ports_on_hosts(service, 1)
    api = service.client()
    since = api.watch_host("cmp-1").revision

    with ThreadPoolExecutor(max_workers=1) as pool:
        watching = pool.submit(api.watch_host, "cmp-1", since=since, wait=30)
        bound = service.client().bind(port_ids[0], "cmp-1")
        changed = watching.result(timeout=60)

    assert [b.port_id for b in changed.bindings] == [port_ids[0]]
    assert changed.revision >= bound.revision


@pytest.mark.parametrize("count", [1, 70])
def test_every_work_submitted_before_stop_is_written(service: RunningService, count: int) -> None:
    port_ids = ports_on_hosts(service, count)

    async def scenario() -> list[Binding]:
        group = GroupCommit(service.state.db, asyncio.get_running_loop())
        group.start()
        writes = [asyncio.ensure_future(group.write(binder(service, p, "cmp-1"))) for p in port_ids]
        await asyncio.sleep(0)
        answered = await asyncio.gather(*writes)
        group.stop()
        return answered

    answered = asyncio.run(scenario())
    assert sorted(b.port_id for b in answered) == sorted(port_ids)
    assert all(events_of(service.state.db, p) for p in port_ids)
