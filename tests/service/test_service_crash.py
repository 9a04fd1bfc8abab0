"""Item 2 of the reliability suite: ``vifbind serve`` SIGKILLed three times, at seeded points,
during 1,000 concurrent bind, activate and unbind requests, on SQLite and on PostgreSQL. After
every restart: one active binding per port, every acknowledged answer kept, the event log in
revision order and unchanged by the crash (the checks are in invariants.py). The long version
is ``tests/soak/service_crash.py``."""

from __future__ import annotations

from pathlib import Path

import pytest

from crashes import run_with_kills
from harness import ServeProcess

REQUESTS = 1000
KILLS = 3


@pytest.mark.e2e
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_sigkill_during_concurrent_binds_loses_nothing_acknowledged(
    backend: str,
    tmp_path: Path,
    serve_processes: list[ServeProcess],
    request: pytest.FixtureRequest,
) -> None:
    db = None if backend == "sqlite" else request.getfixturevalue("pg_url")
    result = run_with_kills(
        tmp_path / "state",
        db,
        requests=REQUESTS,
        kills=KILLS,
        seed=8,
        started=serve_processes.append,
    )
    answered = sum(result.statuses.values())
    assert answered + result.unanswered == REQUESTS
    assert set(result.statuses) <= {200, 201, 404, 409}, result.statuses
    assert result.statuses[201] > 50 and result.statuses[200] > 50, result.statuses
    assert result.events > 200 and result.bindings > 0, result
