"""The host trusts nothing (hypothesis): bindings whose names, MACs, paths, bridges or device
ownership are hostile are refused by the guard with ``UnsafeVIF`` — never accepted, never a
crash of another kind. The guard only reads: the host is not touched (the e2e twin of this test,
tests/host/test_hostile.py, compares the host's state byte for byte)."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vifbind.contract import Binding
from vifbind.errors import UnsafeVIF
from vifbind.host import guard
from vifbind.host.config import HostConfig
from vifbind.host.inventory import Inventory
from vifbind.host.netlink import LinkState

PORT = "5f1c0a52-8d0e-4c6f-9a57-2b8f3c1d9e07"
GOOD_MAC = "fa:16:3e:12:34:56"

INJECTIONS = [
    "tap0;reboot", "$(id)", "`id`", "tap0 && rm", "-rf", "--all", "..", ".", "br-int\n",
    "tap\x00x", "tаp0", "ｔａｐ０", "tap0\u200b", "x" * 16, "é" * 8, "a/b", "../etc", "br:0",
    "vbnewhostile", "eth-unmarked", "eth-foreign",
]  # fmt: skip
BAD_MACS = ["01:00:5e:00:00:01", "ff:ff:ff:ff:ff:ff", "00:00:00:00:00:00", "fa:16:3e:12:34", "x"]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[HostConfig, Inventory, Path]:
    """A netns host config with a guest namespace file, a socket directory holding a symlink
    and a plain file, and an inventory with an unmarked and a foreign-marked device."""
    base = tmp_path_factory.mktemp("guard")
    (base / "netns").mkdir()
    (base / "netns" / "guest").touch()
    sockets = base / "sock"
    sockets.mkdir()
    os.symlink("/etc/passwd", sockets / "link")
    (sockets / "file").touch()
    config = HostConfig(
        host="cmp-1",
        hypervisor="kvm",
        netns_dir=base / "netns",
        linux_bridges=["br-ok"],
        vhostuser_socket_dir=str(sockets),
        physnets={"physnet1": {"device": "eth1"}},
    )
    links = {
        "eth-unmarked": LinkState("eth-unmarked", 5, "veth", "", 1500, True, None),
        "eth-foreign": LinkState("eth-foreign", 6, "veth", "vifbind:other-port", 1500, True, None),
        "br-ok": LinkState("br-ok", 7, "bridge", "", 1500, True, None),
    }
    return config, Inventory(links=links), sockets


def binding_with(vif: dict[str, Any], **fields: Any) -> Binding:
    """A binding built without validation, the way a compromised service could send it."""
    data: dict[str, Any] = {
        "port_id": PORT,
        "host": "cmp-1",
        "status": "bound",
        "backend": "x",
        "vif": vif,
        "protections": {
            "mac_spoofing": "network",
            "ip_spoofing": "network",
            "security_groups": "off",
        },
        "host_enforcement": {},
        "mac": GOOD_MAC,
        "mtu": 1500,
        "fixed_ips": ["192.0.2.1"],
        "device_id": "guest",
    } | fields
    return Binding.model_construct(**data)


def bridge_vif(bridge: str, devname: str) -> dict[str, Any]:
    return {"type": "bridge", "version": "1.0", "details": {"bridge": bridge, "devname": devname}}


def macvtap_vif(parent: str) -> dict[str, Any]:
    return {"type": "macvtap", "version": "1.0", "details": {"parent": parent, "mode": "bridge"}}


def vifs(sockets: Path) -> st.SearchStrategy[dict[str, Any]]:
    names = st.sampled_from(INJECTIONS)
    return st.one_of(
        st.builds(lambda n: {"type": "tap", "version": "1.0", "details": {"devname": n}}, names),
        st.builds(
            bridge_vif,
            st.sampled_from([*INJECTIONS, "br-notallowed", "br-int"]),
            st.sampled_from([*INJECTIONS, "tap5f1c0a52-8d"]),
        ),
        st.builds(
            lambda bridge, dev: {
                "type": "ovs", "version": "1.1",
                "details": {"bridge": bridge, "interface_id": PORT, "devname": dev,
                            "datapath_type": "system", "hybrid": False},
            },
            st.sampled_from([*INJECTIONS, "br-ex"]),
            st.sampled_from([*INJECTIONS, "tap5f1c0a52-8d"]),
        ),
        st.builds(
            lambda path: {
                "type": "vhostuser", "version": "1.0",
                "details": {"socket_path": path, "mode": "server", "ovs_bridge": "br-int"},
            },
            st.sampled_from([
                f"{sockets}/link", f"{sockets}/file", f"{sockets}/../escape", "/etc/passwd",
                "relative/sock", f"{sockets}//double", f"{sockets}/sub/deeper", f"{sockets}/a b",
            ]),
        ),
        st.builds(
            macvtap_vif,
            st.sampled_from([*INJECTIONS, "eth0", "lo"]),
        ),
    )  # fmt: skip


@settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_hostile_bindings_are_refused(
    world: tuple[HostConfig, Inventory, Path], data: st.DataObject
) -> None:
    config, inventory, sockets = world
    vif = data.draw(vifs(sockets))
    extra = data.draw(
        st.fixed_dictionaries(
            {},
            optional={
                "mac": st.sampled_from(BAD_MACS),
                "device_id": st.sampled_from(["../guest", "-n", "guest;x", "no-such-guest"]),
                "host": st.sampled_from(["cmp-2", "CMP-1;x"]),
                "mtu": st.sampled_from([0, 10, 70000]),
            },
        )
    )
    with pytest.raises(UnsafeVIF):
        guard.vet(binding_with(vif, **extra), config, inventory)


@pytest.mark.parametrize(
    "vif",
    [
        {"type": "tap", "version": "1.0", "details": {"devname": "tap5f1c0a52-8d"}},
        bridge_vif("br-ok", "tap5f1c0a52-8d"),
    ],
)
def test_the_same_guard_accepts_a_sound_binding(
    world: tuple[HostConfig, Inventory, Path], vif: dict[str, Any]
) -> None:
    """The control: the fuzzed refusals are about the hostile values, not a guard that refuses
    everything."""
    config, inventory, _ = world
    vetted = guard.vet(binding_with(vif), config, inventory)
    assert vetted.port_id == PORT


def test_a_symlinked_socket_is_refused_by_name(world: tuple[HostConfig, Inventory, Path]) -> None:
    config, inventory, sockets = world
    vif = {
        "type": "vhostuser",
        "version": "1.0",
        "details": {"socket_path": f"{sockets}/link", "mode": "server", "ovs_bridge": "br-int"},
    }
    with pytest.raises(UnsafeVIF, match="is a symbolic link"):
        guard.vet(binding_with(vif), config, inventory)
    assert uuid.UUID(PORT)
