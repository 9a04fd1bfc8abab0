"""What must hold of a service's data whatever happened to it: one active binding per port, an
event log in revision order that explains every stored binding, and every acknowledged answer
kept — checked through the API, or on an SQLite file directly."""

from __future__ import annotations

import itertools
import sqlite3
from collections import Counter
from collections.abc import Iterable
from contextlib import closing
from pathlib import Path

from vifbind.client import Client
from vifbind.contract import Binding
from vifbind.contract.api import Event

from workload import Kind, Ledger

Key = tuple[str, str]
"""(port id, host)"""

DIRECT: dict[str, Kind] = {"bound": "bind", "activated": "activate", "deleted": "unbind"}
"""Events a request makes on its own binding (``deactivated`` ones are its side effects)."""

ANSWERED_BY: dict[Kind, frozenset[str]] = {
    "bind": frozenset({"bound"}),
    # An activation of the active binding changes nothing and answers its last change.
    "activate": frozenset({"activated", "bound"}),
    "unbind": frozenset({"deleted"}),
}


def event_log(api: Client) -> list[Event]:
    """The whole event log, page after page."""
    events: list[Event] = []
    since = 0
    while True:
        page = api.events(since=since)
        if not page.events:
            return events
        events.extend(page.events)
        since = page.revision


def check_one_active_per_port(bindings: Iterable[Binding]) -> None:
    active = Counter(b.port_id for b in bindings if b.active)
    doubled = {port: n for port, n in active.items() if n > 1}
    assert not doubled, f"ports with several active bindings: {doubled}"


def check_log_order(events: list[Event], revision: int) -> None:
    """Revisions never go back in log order, and none is beyond the service's revision."""
    revisions = [e.revision for e in events]
    backwards = [(a, b) for a, b in itertools.pairwise(revisions) if b < a]
    assert not backwards, f"the event log goes back in revision: {backwards[:5]}"
    assert not revisions or revisions[-1] <= revision, (revisions[-1], revision)


def check_state_matches_log(bindings: list[Binding], events: list[Event]) -> None:
    """Each stored binding is its last event's binding; a binding whose last event is a
    deletion is not stored; no binding is stored without events."""
    last: dict[Key, Event] = {}
    for event in events:
        last[event.port_id, event.host] = event
    stored = {(b.port_id, b.host): b for b in bindings}
    assert len(stored) == len(bindings), "two stored bindings of one (port, host)"
    unexplained = set(stored) - set(last)
    assert not unexplained, f"bindings without any event: {sorted(unexplained)[:5]}"
    for key, event in last.items():
        if event.kind == "deleted":
            assert key not in stored, f"{key} is stored after its deletion at {event.revision}"
        else:
            assert stored.get(key) == event.binding, f"{key}: stored {stored.get(key)}, log {event}"


def check_ledger(ledger: Ledger, bindings: list[Binding], events: list[Event]) -> None:
    """Every acknowledged answer is in the log as answered; each (port, host)'s last
    acknowledged answer still holds unless the log shows a later change; and every change in
    the log was asked for (acknowledged, or by a request left without an answer)."""
    logged = {(e.revision, e.port_id, e.host): e for e in events if e.kind != "deactivated"}
    acknowledged = ledger.acknowledged()
    for answer in acknowledged:
        binding = answer.binding
        assert binding is not None
        event = logged.get((binding.revision, binding.port_id, binding.host))
        assert event is not None, f"acknowledged {answer.op} at {binding.revision} is not logged"
        assert event.kind in ANSWERED_BY[answer.op.kind], (answer.op, event.kind)
        assert event.binding == binding, f"{answer.op}: answered {binding}, logged {event.binding}"

    stored = {(b.port_id, b.host): b for b in bindings}
    last_change: dict[Key, Event] = {}
    for event in events:
        last_change[event.port_id, event.host] = event
    latest: dict[Key, Binding] = {}
    kinds: dict[Key, Kind] = {}
    for answer in sorted(acknowledged, key=lambda a: a.binding.revision if a.binding else 0):
        assert answer.binding is not None
        key = (answer.op.port_id, answer.op.host)
        latest[key], kinds[key] = answer.binding, answer.op.kind
    for key, binding in latest.items():
        later = last_change[key].revision > binding.revision
        if kinds[key] == "unbind":
            assert key not in stored or later, f"{key} came back after an acknowledged unbind"
        else:
            assert key in stored or later, f"{key} was lost after an acknowledged {kinds[key]}"

    answered = {(b.revision, b.port_id, b.host) for a in acknowledged if (b := a.binding)}
    unasked = Counter(
        (e.port_id, e.host, DIRECT[e.kind])
        for e in events
        if e.kind in DIRECT and (e.revision, e.port_id, e.host) not in answered
    )
    cut_off = Counter((op.port_id, op.host, op.kind) for op in ledger.unanswered)
    phantoms = unasked - cut_off
    assert not phantoms, f"changes nobody asked for: {dict(phantoms)}"
    by_revision: dict[int, set[str]] = {}
    for event in events:
        if event.kind in ("activated", "bound"):
            by_revision.setdefault(event.revision, set()).add(event.port_id)
    for event in events:
        if event.kind == "deactivated":
            assert event.port_id in by_revision.get(event.revision, set()), event


def check_service(api: Client, ledger: Ledger | None = None) -> list[Event]:
    """Every invariant, through the API of a running service; returns the event log."""
    bindings = api.all_bindings()
    events = event_log(api)
    check_one_active_per_port(bindings)
    check_log_order(events, api.events(since=events[-1].revision if events else 0).revision)
    check_state_matches_log(bindings, events)
    if ledger is not None:
        check_ledger(ledger, bindings, events)
    return events


def check_sqlite_file(path: Path) -> int:
    """The same invariants on an SQLite database file (a copy, a backup) opened as the service
    opens it (its -wal replayed), plus SQLite's own integrity and foreign-key checks; returns
    the revision counter."""
    with closing(sqlite3.connect(path)) as db:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []
        doubled = db.execute(
            "SELECT port_id FROM bindings WHERE active GROUP BY port_id HAVING count(*) > 1"
        ).fetchall()
        assert doubled == [], f"ports with several active bindings: {doubled}"
        revisions = [r for (r,) in db.execute("SELECT revision FROM events ORDER BY id")]
        assert revisions == sorted(revisions), "the event log goes back in revision"
        (counter,) = db.execute("SELECT value FROM counters WHERE name = 'revision'").fetchone()
        assert not revisions or revisions[-1] <= counter, (revisions[-1], counter)
        unexplained = db.execute(
            "SELECT b.port_id, b.host, b.revision FROM bindings b WHERE NOT EXISTS ("
            " SELECT 1 FROM events e WHERE e.revision = b.revision AND e.port_id = b.port_id"
            " AND e.host = b.host AND e.binding = b.doc)"
        ).fetchall()
        assert unexplained == [], f"bindings not in the event log: {unexplained[:5]}"
    return int(counter)
