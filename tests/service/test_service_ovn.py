"""The service with the ``ovn`` backend against real OVN: northbound kept in step with the
bindings, and OVN's ``up`` (a real ovn-controller claiming the port) as the plugged signal."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from vifbind.errors import WaitTimeout
from vifbind.service.settings import ServiceSettings

from builders import geneve, host
from harness import RunningService, serve_in_thread
from ovn_fixtures import Hypervisor, OvnCentral

pytestmark = pytest.mark.e2e

OVN_HOST = host(
    "hv-1",
    ovs={"bridge": "br-int", "datapath_type": "netdev", "iface_types": ["internal", "tap"]},
)


@pytest.fixture
def ovn_service(ovn_central: OvnCentral, tmp_path: Path) -> Iterator[RunningService]:
    settings = ServiceSettings(
        state_dir=tmp_path / "state",
        backends=("ovn", "linuxbridge"),
        ovn_nb=ovn_central.nb_remote,
    )
    with serve_in_thread(settings) as running:
        yield running


def test_bound_port_is_in_northbound_and_follows_the_port(
    ovn_service: RunningService, ovn_central: OvnCentral
) -> None:
    api = ovn_service.client()
    api.report_host(OVN_HOST)
    net = api.create_network([geneve(4242)], name="blue", mtu=1442)
    port = api.create_port(net.id, fixed_ips=["192.0.2.31"], device_id="vm-31")
    assert ovn_central.row("Logical_Switch_Port", port.id) is None
    binding = api.bind(port.id, "hv-1")
    assert (binding.backend, binding.vif and binding.vif.type) == ("ovn", "ovs")
    lsp = ovn_central.row("Logical_Switch_Port", port.id)
    assert lsp is not None
    assert lsp["addresses"] == f"{port.mac} 192.0.2.31"
    assert lsp["port_security"] == f"{port.mac} 192.0.2.31"
    api.update_port(port.id, fixed_ips=["192.0.2.32"], port_security=True)
    updated = ovn_central.row("Logical_Switch_Port", port.id)
    assert updated is not None and updated["addresses"] == f"{port.mac} 192.0.2.32"
    api.delete_port(port.id)
    assert ovn_central.row("Logical_Switch_Port", port.id) is None


def test_ovn_up_is_the_plugged_signal(
    ovn_service: RunningService, ovn_central: OvnCentral, hypervisor: Hypervisor
) -> None:
    api = ovn_service.client()
    api.report_host(OVN_HOST)
    net = api.create_network([geneve(4343)])
    port = api.create_port(net.id, fixed_ips=["192.0.2.41"])
    binding = api.bind(port.id, "hv-1")
    # The host saying "plugged" is not enough: OVN has not claimed the port.
    api.report_plugged(port.id, "hv-1", plugged=True, revision=binding.revision)
    with pytest.raises(WaitTimeout):
        api.wait_plugged(port.id, "hv-1", timeout=0.5)
    started = time.monotonic()
    interface = hypervisor.plug(port.id, port.mac)
    plugged = api.wait_plugged(port.id, "hv-1", timeout=15)
    assert plugged.plugged and plugged.plugged_at is not None
    assert time.monotonic() - started < 15
    hypervisor.unplug(interface)
    deadline = time.monotonic() + 15
    while api.get_binding(port.id, "hv-1").plugged:
        assert time.monotonic() < deadline, "up=false never reached the binding"
        time.sleep(0.05)
    kinds = [e.kind for e in api.events(port_id=port.id).events]
    assert kinds[-2:] == ["plugged", "unplugged"]


def test_an_inactive_ovn_binding_is_plugged_by_its_host(ovn_service: RunningService) -> None:
    """OVN's up tells nothing about which host holds the port: a migration's destination
    (inactive) is plugged on its host's word; the active binding waits for OVN."""
    api = ovn_service.client()
    api.report_host(OVN_HOST)
    api.report_host(OVN_HOST.model_copy(update={"host": "hv-2"}))
    net = api.create_network([geneve(4444)])
    port = api.create_port(net.id, fixed_ips=["192.0.2.44"])
    source = api.bind(port.id, "hv-1")
    destination = api.bind(port.id, "hv-2")
    assert source.active and not destination.active
    api.report_plugged(port.id, "hv-1", plugged=True, revision=source.revision)
    api.report_plugged(port.id, "hv-2", plugged=True, revision=destination.revision)
    assert not api.get_binding(port.id, "hv-1").plugged, "the active one waits for OVN's up"
    assert api.get_binding(port.id, "hv-2").plugged, "the destination is plugged ahead"
