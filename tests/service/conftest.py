"""Fixtures of the service tests: each test runs on SQLite and on a private PostgreSQL; OVN
tests get private OVN daemons (see ovn_fixtures)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from testbed.postgres import PostgresCluster, missing_prerequisite
from testbed.serve import ServeProcess
from vifbind.service.ovn import OvnNorthbound
from vifbind.service.settings import ServiceSettings

from harness import RunningService, postgres_cluster, serve_in_thread
from ovn_fixtures import Hypervisor, OvnCentral, require_ovn


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresCluster]:
    """A private cluster (trust auth, free port, private socket directory), removed after."""
    why = missing_prerequisite()
    if why is not None:
        pytest.skip(f"PostgreSQL tests: {why}")
    with postgres_cluster() as cluster:
        yield cluster


@pytest.fixture
def pg_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh PostgreSQL database for one test."""
    cluster: PostgresCluster = request.getfixturevalue("postgres")
    name = f"vifbind_{secrets.token_hex(6)}"
    cluster.psql(f"CREATE DATABASE {name}")
    try:
        yield cluster.url(name)
    finally:
        cluster.psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.e2e)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each service test runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'vifbind.db'}"
    url: str = request.getfixturevalue("pg_url")
    return url


@pytest.fixture
def service(db_url: str, tmp_path: Path) -> Iterator[RunningService]:
    """A service on SQLite or PostgreSQL with the backends that need no daemon."""
    settings = ServiceSettings(
        state_dir=tmp_path / "state",
        db_url=db_url,
        backends=("ovs", "linuxbridge", "sriov", "macvtap", "xen", "vmware", "hyperv"),
        report_max_age=60,
    )
    with serve_in_thread(settings) as running:
        yield running


@pytest.fixture
def serve_processes() -> Iterator[list[ServeProcess]]:
    """Collects ``vifbind serve`` processes started by a test and stops them afterwards."""
    started: list[ServeProcess] = []
    yield started
    for process in started:
        process.stop(9)


@pytest.fixture(scope="module")
def ovn_central() -> Iterator[OvnCentral]:
    """NB + SB + ovn-northd, shared by a module's tests (each test uses its own names)."""
    require_ovn()
    central = OvnCentral(northd=True)
    yield central
    central.close()


@pytest.fixture(scope="module")
def hypervisor(ovn_central: OvnCentral) -> Iterator[Hypervisor]:
    """A chassis (OVS + ovn-controller in its own namespace) of ``ovn_central``."""
    host = Hypervisor(ovn_central)
    yield host
    host.close()


@pytest.fixture
def nb_only() -> Iterator[OvnCentral]:
    """A northbound database of this test's own, free to be stopped and restarted."""
    require_ovn()
    central = OvnCentral(northd=False)
    yield central
    central.close()


@pytest.fixture
def northbound(ovn_central: OvnCentral) -> Iterator[OvnNorthbound]:
    """vifbind's client of the shared NB."""
    with OvnNorthbound(ovn_central.nb_remote) as nb:
        yield nb
