"""The operator guide's sessions, run as written against a real ``vifbind serve``: every
command marked to run works, and prints what the guide shows."""

from __future__ import annotations

from pathlib import Path

from doc_blocks import DOCS, run, run_blocks
from harness import ServeProcess, start_serve

GUIDE = DOCS / "operator-guide.md"


def test_the_operator_guide_runs_as_written(
    tmp_path: Path, serve_processes: list[ServeProcess]
) -> None:
    state = tmp_path / "state"
    service = start_serve(state, None)
    serve_processes.append(service)
    pairs = run_blocks(GUIDE)
    assert len(pairs) >= 5
    outputs = run(
        [block for block, _ in pairs],
        {"VIFBIND_SERVICE": service.url, "VIFBIND_TOKEN_FILE": str(state / "admin.token")},
    )
    for (block, shown), printed in zip(pairs, outputs, strict=True):
        if shown is not None:
            assert printed == shown.text, f"{shown.where} is not what {block.where} prints"
