"""``vifbind serve`` and friends as an operator runs them: first start, restart on the same
database, ``db upgrade``, ``token create``, migrations against the models, metrics."""

from __future__ import annotations

import stat
import subprocess
from pathlib import Path

import httpx
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from testbed.serve import ServeProcess, start_serve
from vifbind.client import Client
from vifbind.service.storage.database import Database
from vifbind.service.storage.tables import Base

from builders import VIFBIND, host, vxlan
from harness import RunningService


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([VIFBIND, *args], capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.e2e)])
def test_restart_keeps_everything_with_the_same_revisions(
    backend: str,
    tmp_path: Path,
    serve_processes: list[ServeProcess],
    request: pytest.FixtureRequest,
) -> None:
    state = tmp_path / "state"
    db = None if backend == "sqlite" else request.getfixturevalue("pg_url")
    first = start_serve(state, db)
    serve_processes.append(first)
    token_file = state / "admin.token"
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert f"admin token created in {token_file}" in first.log.read_text()
    api = Client(first.url, token_file.read_text().strip())
    net = api.create_network([vxlan()], name="kept")
    port = api.create_port(net.id, fixed_ips=["192.0.2.7"])
    api.report_host(host("cmp-1"))
    binding = api.bind(port.id, "cmp-1")
    before = (api.list_networks(), api.list_ports(), api.list_bindings(port.id), api.events())
    first.stop()

    second = start_serve(state, db)
    serve_processes.append(second)
    assert "admin token in" in second.log.read_text()
    again = Client(second.url, token_file.read_text().strip())
    after = (
        again.list_networks(),
        again.list_ports(),
        again.list_bindings(port.id),
        again.events(),
    )
    assert after == before
    assert again.get_binding(port.id, "cmp-1").revision == binding.revision
    assert again.bind(port.id, "cmp-1").revision > binding.revision


def test_serve_refuses_bad_options(tmp_path: Path) -> None:
    bad_listen = run("serve", "--listen", "nowhere", "--state-dir", str(tmp_path))
    assert bad_listen.returncode == 2
    assert "--listen: 'nowhere' is not ADDR:PORT" in bad_listen.stderr
    assert "Traceback" not in bad_listen.stderr
    ovn = run("serve", "--backends", "ovn", "--state-dir", str(tmp_path), "--listen", "127.0.0.1:1")
    assert ovn.returncode == 2
    assert "backends: ovn needs an OVN northbound connection (--ovn-nb)" in ovn.stderr
    unknown = run("serve", "--backends", "ovs,nope", "--state-dir", str(tmp_path))
    assert unknown.returncode == 2
    assert "unknown 'nope'" in unknown.stderr


def test_db_upgrade_and_token_create(tmp_path: Path, serve_processes: list[ServeProcess]) -> None:
    upgraded = run("db", "upgrade", "--state-dir", str(tmp_path))
    assert upgraded.returncode == 0, upgraded.stderr
    assert "schema current" in upgraded.stderr
    created = run(
        "token", "create", "--role", "agent", "--host", "CMP-5", "--state-dir", str(tmp_path)
    )
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip()
    assert token.startswith("vbt_")
    refused = run("token", "create", "--role", "agent", "--state-dir", str(tmp_path))
    assert refused.returncode == 2
    assert "an agent token needs --host" in refused.stderr
    wrong_role = run("token", "create", "--role", "root", "--state-dir", str(tmp_path))
    assert wrong_role.returncode == 2
    served = start_serve(tmp_path, None)
    serve_processes.append(served)
    agent = Client(served.url, token)
    assert agent.report_host(host("cmp-5")).host == "cmp-5"


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.e2e)])
def test_migrations_match_the_models(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = (
        f"sqlite:///{tmp_path / 'm.db'}"
        if backend == "sqlite"
        else request.getfixturevalue("pg_url")
    )
    database = Database(url)
    database.upgrade()
    database.upgrade()  # a second run finds nothing to do
    with database.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    database.dispose()
    assert differences == []


def test_sqlite_runs_with_wal_and_foreign_keys(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'v.db'}")
    database.upgrade()
    with database.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    database.dispose()


def test_metrics(service: RunningService) -> None:
    api = service.client()
    net = api.create_network([vxlan()])
    port = api.create_port(net.id)
    api.report_host(host("cmp-1"))
    api.bind(port.id, "cmp-1")
    api.bind(port.id, "cmp-2")
    text = httpx.get(
        f"{service.url}/metrics", headers={"Authorization": f"Bearer {service.admin_token}"}
    ).text
    assert 'vifbind_bindings{backend="ovs",status="bound"} 1.0' in text
    assert 'vifbind_bindings{backend="",status="failed"} 1.0' in text
    assert 'vifbind_binding_decisions_total{backend="ovs",status="bound"} 1.0' in text
    assert "vifbind_watch_clients 0.0" in text
    assert (
        'vifbind_http_request_duration_seconds_count{method="POST",'
        'route="/v1/ports/{port_id}/bindings",status="201"} 2.0' in text
    )


def test_health_is_open_and_says_which_database(service: RunningService) -> None:
    answer = httpx.get(f"{service.url}/healthz").json()
    assert answer["status"] == "ok"
    assert answer["database"] == service.state.db.dialect
