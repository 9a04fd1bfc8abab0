"""Item 8 of the reliability suite, upgrades: for every revision in Alembic's script directory, a
database migrated to it and populated with the rows vifbind wrote at that revision (the newest
``migration_data/<revision>.json`` at or before it) upgrades to the newest schema, and the
service then serves every object as it was, its tokens still work, and its revisions go on.
A new migration is covered as soon as it exists; a new data file when its shapes change."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, func, select

from vifbind.client import Client
from vifbind.contract import Binding
from vifbind.service.settings import ServiceSettings
from vifbind.service.storage.database import Database, migrations_config

from harness import serve_in_thread
from invariants import check_service, event_log

DATA = Path(__file__).parent / "migration_data"
SCRIPTS = ScriptDirectory.from_config(migrations_config())
REVISIONS = [r.revision for r in reversed(list(SCRIPTS.walk_revisions()))]
"""Every migration, oldest first."""


def data_for(revision: str) -> dict[str, Any]:
    """The rows written at ``revision``, or at the newest revision before it that has some."""
    known = [r for r in REVISIONS[: REVISIONS.index(revision) + 1] if (DATA / f"{r}.json").exists()]
    assert known, f"no migration_data file at or before {revision}: run migration_data/dump.py"
    loaded: dict[str, Any] = json.loads((DATA / f"{known[-1]}.json").read_text())
    return loaded


def stored(value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {"$datetime"}:
        return datetime.fromisoformat(value["$datetime"])
    return value


def populate(database: Database, rows: dict[str, list[dict[str, Any]]]) -> None:
    """Insert the rows into the schema as it is now (columns it lacks are left out)."""
    with database.engine.begin() as connection:
        tables = MetaData()
        tables.reflect(connection)
        for table in tables.sorted_tables:
            if table.name == "counters":
                connection.execute(table.delete())
            if rows.get(table.name):
                kept = [
                    {k: stored(v) for k, v in row.items() if k in table.c}
                    for row in rows[table.name]
                ]
                connection.execute(table.insert(), kept)
        if connection.dialect.name == "postgresql":
            # As a restore does: sequences continue after the ids the rows brought.
            for table in tables.sorted_tables:
                for column in table.primary_key.columns:
                    sequence = connection.scalar(
                        select(func.pg_get_serial_sequence(table.name, column.name))
                    )
                    if sequence is not None:
                        last = connection.scalar(select(func.max(column))) or 0
                        connection.execute(select(func.setval(sequence, last + 1, False)))


def ids(rows: list[dict[str, Any]], column: str) -> list[str]:
    return sorted(r[column] for r in rows)


@pytest.mark.parametrize("revision", REVISIONS)
def test_a_populated_database_upgrades_from_every_revision(
    revision: str, db_url: str, tmp_path: Path
) -> None:
    data = data_for(revision)
    rows: dict[str, list[dict[str, Any]]] = data["rows"]
    database = Database(db_url)
    database.upgrade(revision)
    populate(database, rows)
    database.upgrade()
    database.dispose()

    settings = ServiceSettings(state_dir=tmp_path / "state", db_url=db_url, report_max_age=10**7)
    with serve_in_thread(settings) as running:
        api = running.client()
        assert sorted(n.id for n in api.list_networks()) == ids(rows["networks"], "id")
        assert sorted(p.id for p in api.list_ports()) == ids(rows["ports"], "id")
        assert sorted(h.host for h in api.list_hosts()) == ids(rows["host_reports"], "host")
        served = {(b.port_id, b.host): b for b in api.all_bindings()}
        assert served == {
            (r["port_id"], r["host"]): Binding.model_validate(r["doc"]) for r in rows["bindings"]
        }
        events = event_log(api)
        assert [(e.revision, e.kind, e.port_id) for e in events] == [
            (r["revision"], r["kind"], r["port_id"]) for r in rows["events"]
        ]
        check_service(api)
        tokens: dict[str, str] = data["tokens"]
        agent_host = next(r["host"] for r in rows["tokens"] if r["role"] == "agent")
        assert Client(running.url, tokens["agent"]).watch_host(agent_host).complete
        assert len(Client(running.url, tokens["compute"]).list_ports()) == len(rows["ports"])
        assert Client(running.url, tokens["admin"]).list_networks()
        (counter,) = [r["value"] for r in rows["counters"] if r["name"] == "revision"]
        port_id, host = next(iter(served))
        assert api.bind(port_id, host).revision > counter
