"""Fixtures of the service tests: private OVN daemons (see ovn_fixtures)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from vifbind.service.ovn import OvnNorthbound

from ovn_fixtures import Hypervisor, OvnCentral, require_ovn


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
