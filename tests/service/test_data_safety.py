"""Item 8 of the reliability suite, copies: while ``vifbind serve`` writes under load, an SQLite
copy taken the documented ways — ``vifbind db backup`` (VACUUM INTO), SQLite's backup API (what
``sqlite3 vifbind.db ".backup FILE"`` runs), or an instant snapshot of the file with its -wal
(as LVM, ZFS or btrfs take one) — passes SQLite's integrity checks and every invariant, and a
service started on it serves it. (A plain ``cp`` of the file and its -wal during writes is not
among them: it can be torn — docs/reliability.md has the measurement.)"""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import pytest

from vifbind.client import Client

from cli_run import assert_one_line_error, run
from harness import ServeProcess, start_serve
from invariants import check_service, check_sqlite_file
from workload import Runner, prepare, seeded_ops

pytestmark = pytest.mark.e2e

HOSTS = ("cmp-1", "cmp-2", "cmp-3", "cmp-4")
OPTIONS = ("--backends", "ovs", "--report-max-age", "86400")
ROUNDS = 2


def backup_command(state: Path, target: Path, _served: ServeProcess) -> None:
    made = run("db", "backup", "--output", str(target), "--state-dir", str(state))
    assert made.returncode == 0, made.stderr
    assert os.stat(target).st_mode & 0o077 == 0, "the copy holds token digests: owner only"


def backup_api(state: Path, target: Path, _served: ServeProcess) -> None:
    with (
        closing(sqlite3.connect(state / "vifbind.db")) as source,
        closing(sqlite3.connect(target)) as copy,
    ):
        source.backup(copy)


def instant_snapshot(state: Path, target: Path, served: ServeProcess) -> None:
    """The file and its -wal as they are at one instant: the service is frozen meanwhile."""
    served.process.send_signal(signal.SIGSTOP)
    try:
        shutil.copyfile(state / "vifbind.db", target)
        shutil.copyfile(state / "vifbind.db-wal", f"{target}-wal")
    finally:
        served.process.send_signal(signal.SIGCONT)


WAYS: dict[str, Callable[[Path, Path, ServeProcess], None]] = {
    "vifbind db backup": backup_command,
    "backup API": backup_api,
    "instant snapshot": instant_snapshot,
}


def test_copies_taken_while_the_service_writes_are_consistent(
    tmp_path: Path, serve_processes: list[ServeProcess]
) -> None:
    state = tmp_path / "state"
    served = start_serve(state, None, *OPTIONS)
    serve_processes.append(served)
    token = (state / "admin.token").read_text().strip()
    port_ids = prepare(Client(served.url, token), HOSTS, 40)
    runner = Runner(seeded_ops(4, port_ids, HOSTS, 100_000), served.url, token, workers=16)
    runner.start()
    revisions: dict[str, list[int]] = {way: [] for way in WAYS}
    try:
        for round_ in range(ROUNDS):
            runner.wait_done(100 * (round_ + 1))
            for way, take in WAYS.items():
                target = tmp_path / f"{way.replace(' ', '-')}-{round_}" / "vifbind.db"
                target.parent.mkdir()
                take(state, target, served)
                revisions[way].append(check_sqlite_file(target))
    finally:
        runner.stop()
    for way, seen in revisions.items():
        assert seen == sorted(seen) and seen[0] < seen[-1], f"{way}: not taken under load {seen}"
    for way in WAYS:
        copy = tmp_path / f"{way.replace(' ', '-')}-{ROUNDS - 1}"
        shutil.copyfile(state / "admin.token", copy / "admin.token")
        again = start_serve(copy, None, *OPTIONS)
        serve_processes.append(again)
        events = check_service(Client(again.url, token))
        assert events and events[-1].revision <= revisions[way][-1]
        again.stop()


def test_backup_refuses_an_existing_file_and_postgresql(tmp_path: Path, pg_url: str) -> None:
    existing = tmp_path / "there.db"
    existing.write_text("keep")
    refused = run("db", "backup", "--output", str(existing), "--state-dir", str(tmp_path))
    assert_one_line_error(refused, 2, "already exists")
    assert existing.read_text() == "keep"
    postgres = run("db", "backup", "--output", str(tmp_path / "x.db"), "--db", pg_url)
    assert_one_line_error(postgres, 2, "pg_dump")
    assert not (tmp_path / "x.db").exists()
