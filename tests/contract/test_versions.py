"""Versions as data: the version lines and backporting."""

from __future__ import annotations

import typing

import pytest

from vifbind.contract import SPECS, NotExpressible, UnknownVersion, backport, parse_vif
from vifbind.contract.vifs import Vif

from builders import PORT_ID

OVS_11 = {
    "type": "ovs",
    "version": "1.1",
    "details": {
        "bridge": "br-int",
        "interface_id": PORT_ID,
        "devname": "tap5f1c0a52-8d",
        "hybrid": True,
        "datapath_type": "system",
    },
}
VHOSTUSER_11 = {
    "type": "vhostuser",
    "version": "1.1",
    "details": {
        "socket_path": "/var/run/openvswitch/vhu5f1c0a52-8d",
        "mode": "server",
        "ovs_bridge": "br-int",
        "queues": 1,
    },
}


def with_details(data: dict[str, typing.Any], **details: typing.Any) -> dict[str, typing.Any]:
    return data | {"details": data["details"] | details}


def test_ovs_drops_datapath_type_when_it_is_the_implied_system() -> None:
    old = backport(parse_vif(OVS_11), "1.0")
    assert old.version == "1.0"
    assert old.model_dump(mode="json")["details"] == {
        "bridge": "br-int",
        "interface_id": PORT_ID,
        "devname": "tap5f1c0a52-8d",
        "hybrid": True,
    }


def test_ovs_netdev_cannot_be_expressed_in_1_0() -> None:
    with pytest.raises(NotExpressible) as info:
        backport(parse_vif(with_details(OVS_11, datapath_type="netdev")), "1.0")
    err = info.value
    assert (err.vif_type, err.field, err.value, err.to_version) == (
        "ovs",
        "datapath_type",
        "netdev",
        "1.0",
    )
    assert "datapath_type='netdev'" in str(err)
    assert "1.0 can only mean datapath_type='system'" in str(err)


def test_vhostuser_single_queue_backports_multi_queue_does_not() -> None:
    old = backport(parse_vif(VHOSTUSER_11), "1.0")
    assert "queues" not in old.model_dump()["details"]
    with pytest.raises(NotExpressible, match="queues=4"):
        backport(parse_vif(with_details(VHOSTUSER_11, queues=4)), "1.0")


def test_backport_to_the_same_version_is_identity() -> None:
    vif = parse_vif(OVS_11)
    assert backport(vif, "1.1") == vif


def test_backport_refuses_unknown_and_newer_versions() -> None:
    with pytest.raises(UnknownVersion, match=r"ovs has no version '0\.9'"):
        backport(parse_vif(OVS_11), "0.9")
    old = backport(parse_vif(OVS_11), "1.0")
    with pytest.raises(UnknownVersion, match="newer version"):
        backport(old, "1.1")


def test_version_line_declarations_are_consistent_with_the_models() -> None:
    for vif_type, spec in SPECS.items():
        assert spec.type == vif_type
        previous: set[str] = set()
        for version in spec.versions:
            model = version.model
            assert model.model_fields["type"].default == vif_type
            assert model.model_fields["version"].default == version.version
            details_model = model.model_fields["details"].annotation
            assert isinstance(details_model, type)
            fields = set(details_model.model_fields)
            added = {a.name for a in version.added}
            if previous:
                assert fields - previous == added, f"{vif_type} {version.version} undeclared"
            for declaration in version.added:
                default = details_model.model_fields[declaration.name].default
                assert default in declaration.droppable_when, (
                    f"{vif_type} {version.version}.{declaration.name}: the default must be the "
                    "meaning older versions implied"
                )
            previous = fields


def _union_members(tp: typing.Any) -> set[type]:
    if isinstance(tp, type):
        return {tp}
    return {m for arg in typing.get_args(tp) for m in _union_members(arg)}


def test_registry_and_union_agree() -> None:
    in_union = _union_members(Vif)
    in_specs = {v.model for spec in SPECS.values() for v in spec.versions}
    assert in_union == in_specs
    assert set(SPECS) == {
        "ovs",
        "bridge",
        "tap",
        "vhostuser",
        "macvtap",
        "802.1qbg",
        "802.1qbh",
        "hw_veb",
        "hostdev_physical",
        "xen",
        "vmware",
        "hyperv",
    }
