"""Item 5 of the reliability suite, small: 500 ports bound across 40 reported hosts with 20
agents watching, then a fifth unbound and a fifth moved; no watcher misses a change of its host
(the full size — 5,000 ports, 200 hosts — is ``tests/soak/load.py``; figures in
docs/reliability.md). Latencies are measured but not judged here: speed is for the soak."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness import ServeProcess, start_serve
from load import run_load


@pytest.mark.e2e
def test_watchers_miss_no_change_under_load(
    tmp_path: Path, serve_processes: list[ServeProcess]
) -> None:
    state = tmp_path / "state"
    served = start_serve(state, None, "--backends", "ovs", "--report-max-age", "86400")
    serve_processes.append(served)
    token = (state / "admin.token").read_text().strip()
    result = run_load([served.url], token, ports=500, hosts=40, watched=20)
    assert len(result.latencies["bind"]) == 600
    # Half the ports are on watched hosts; each is bound, then a fifth unbound, a fifth moved.
    assert result.watched_changes >= 250 + 50
    assert result.delivery, "the watchers' answers must hold the acknowledged changes"
