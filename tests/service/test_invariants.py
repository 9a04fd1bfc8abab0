"""The reliability checks themselves: a consistent history passes, and each kind of damage they
exist to find — a lost acknowledged change, a resurrected binding, a change nobody asked for,
two active bindings, a stored binding the log does not explain, a watcher that missed or
invented a change — is found."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from vifbind.client import Client
from vifbind.contract import Binding
from vifbind.contract.api import Event, EventKind, HostBindings

from builders import bind, host, network, port, vxlan
from invariants import check_ledger, check_one_active_per_port, check_state_matches_log
from watchers import Seen, Watcher, check_saw_the_log
from workload import Answer, Kind, Ledger, Op

BASE = bind(network(vxlan()), port(), host("cmp-1"), ["ovs"])


def binding(revision: int, host_name: str = "cmp-1", *, active: bool = True) -> Binding:
    return BASE.model_copy(update={"revision": revision, "host": host_name, "active": active})


def event(kind: EventKind, doc: Binding) -> Event:
    return Event(
        revision=doc.revision,
        kind=kind,
        port_id=doc.port_id,
        host=doc.host,
        binding=doc,
        created_at=datetime.now(UTC),
    )


def ack(kind: Kind, doc: Binding) -> Answer:
    return Answer(Op(kind, doc.port_id, doc.host), 200, doc)


def history() -> tuple[Ledger, list[Binding], list[Event]]:
    """cmp-1 bound (2), cmp-2 bound inactive (3), unbound from cmp-1 (4), cmp-2 activated (5)."""
    first, second = binding(2), binding(3, "cmp-2", active=False)
    gone = binding(4).model_copy(update={"status": "unbound", "active": False, "vif": None})
    active = binding(5, "cmp-2")
    events = [event("bound", first), event("bound", second), event("deleted", gone)]
    events.append(event("activated", active))
    ledger = Ledger([ack("bind", first), ack("bind", second), ack("unbind", gone)])
    ledger.answers.append(ack("activate", active))
    return ledger, [active], events


def test_a_consistent_history_passes() -> None:
    ledger, stored, events = history()
    check_one_active_per_port(stored)
    check_state_matches_log(stored, events)
    check_ledger(ledger, stored, events)


def test_a_lost_acknowledged_change_is_found() -> None:
    ledger, stored, events = history()
    with pytest.raises(AssertionError, match="is not logged"):
        check_ledger(ledger, stored, events[:-1])
    with pytest.raises(AssertionError, match="was lost after an acknowledged activate"):
        check_ledger(ledger, [], events)


def test_a_binding_back_after_an_acknowledged_unbind_is_found() -> None:
    ledger, stored, events = history()
    with pytest.raises(AssertionError, match="came back after an acknowledged unbind"):
        check_ledger(ledger, [*stored, binding(2)], events)
    with pytest.raises(AssertionError, match="is stored after its deletion"):
        check_state_matches_log([*stored, binding(2)], events)


def test_a_change_nobody_asked_for_is_found_unless_a_request_was_cut_off() -> None:
    ledger, stored, events = history()
    stray = binding(6, "cmp-3", active=False)
    with pytest.raises(AssertionError, match="changes nobody asked for"):
        check_ledger(ledger, [*stored, stray], [*events, event("bound", stray)])
    ledger.unanswered.append(Op("bind", stray.port_id, "cmp-3"))
    check_ledger(ledger, [*stored, stray], [*events, event("bound", stray)])


def test_two_active_bindings_and_unexplained_bindings_are_found() -> None:
    with pytest.raises(AssertionError, match="several active bindings"):
        check_one_active_per_port([binding(2), binding(3, "cmp-2")])
    _, stored, events = history()
    with pytest.raises(AssertionError, match="without any event"):
        check_state_matches_log([*stored, binding(9, "cmp-9")], events)
    with pytest.raises(AssertionError, match="stored"):
        check_state_matches_log([binding(7, "cmp-2")], events)


def watched(answers: list[tuple[int, int, bool, list[Binding]]]) -> Watcher:
    """A watcher of cmp-2 that saw these (since, revision, complete, bindings) answers."""
    watcher = Watcher(Client("http://127.0.0.1:9", "vbt_unused"), "cmp-2")
    for since, revision, complete, bindings in answers:
        answer = HostBindings(revision=revision, complete=complete, bindings=bindings)
        watcher.seen.append(Seen(since, answer, "http://127.0.0.1:9", 0.0))
    return watcher


def test_a_watcher_that_missed_or_invented_a_change_is_found() -> None:
    _, _, events = history()
    inactive, active = events[1].binding, events[3].binding
    in_steps = [(0, 1, True, []), (1, 4, False, [inactive]), (4, 5, False, [active])]
    check_saw_the_log(watched(in_steps), events)
    check_saw_the_log(watched([(0, 3, True, [inactive]), (3, 5, False, [active])]), events)
    with pytest.raises(AssertionError, match="the log has"):
        check_saw_the_log(watched([(0, 1, True, []), (1, 5, False, [inactive])]), events)
    with pytest.raises(AssertionError):
        check_saw_the_log(watched([(0, 1, True, []), (1, 3, False, [inactive])]), events)
    with pytest.raises(AssertionError):
        check_saw_the_log(watched([(0, 1, True, []), (2, 5, False, [active])]), events)
    with pytest.raises(AssertionError):
        check_saw_the_log(watched([(0, 5, True, [inactive])]), events)
