"""The contract's models: wire key names, consistency rules, and version-skew tolerance."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from vifbind.contract import (
    Binding,
    BindRequest,
    ExplainRequest,
    HostReport,
    Network,
    Port,
    Segment,
    parse_vif,
)

from builders import NETWORK_ID, PORT_ID, geneve, host, network, port, vlan

EXAMPLES: dict[str, Any] = json.loads(
    (Path(__file__).parent / "wire_examples.json").read_text(encoding="utf-8")
)
MODELS: dict[str, type[BaseModel]] = {
    "Network": Network,
    "Port": Port,
    "HostReport": HostReport,
    "Binding": Binding,
}


def _keys(value: Any, prefix: str = "") -> set[str]:
    """Dotted paths of every object key in a JSON value (list items share their list's path)."""
    if isinstance(value, dict):
        return {f"{prefix}{k}" for k in value} | {
            key for k, v in value.items() for key in _keys(v, f"{prefix}{k}.")
        }
    if isinstance(value, list):
        return {key for v in value for key in _keys(v, prefix)}
    return set()


@pytest.mark.parametrize("name", sorted(MODELS))
def test_wire_examples_keep_every_key_name(name: str) -> None:
    example = EXAMPLES[name]
    dumped = MODELS[name].model_validate(example).model_dump(mode="json")
    missing = _keys(example) - _keys(dumped)
    assert not missing, f"{name}: keys of the public wire format lost or renamed: {missing}"


def test_segment_rules_name_the_field() -> None:
    cases = [
        ({"type": "vlan", "physnet": "physnet1"}, "segmentation_id"),
        ({"type": "vlan", "physnet": "physnet1", "segmentation_id": 4095}, "segmentation_id"),
        ({"type": "vlan", "segmentation_id": 10}, "physnet"),
        ({"type": "flat", "physnet": "p", "segmentation_id": 5}, "segmentation_id"),
        ({"type": "geneve", "segmentation_id": 0}, "segmentation_id"),
        ({"type": "vxlan", "segmentation_id": 2**24}, "segmentation_id"),
        ({"type": "geneve", "physnet": "p", "segmentation_id": 5}, "physnet"),
        ({"type": "gre", "segmentation_id": 5}, "type"),
    ]
    for data, field in cases:
        with pytest.raises(ValidationError) as info:
            Segment.model_validate(data)
        assert field in str(info.value), (data, str(info.value))


def test_network_needs_a_segment_and_a_sane_mtu() -> None:
    with pytest.raises(ValidationError, match="segments"):
        Network.model_validate({"id": NETWORK_ID, "segments": []})
    with pytest.raises(ValidationError, match="mtu"):
        network(geneve(), mtu=60)
    with pytest.raises(ValidationError, match="name"):
        Network.model_validate({"id": NETWORK_ID, "name": "a\x1bb", "segments": [geneve()]})


def test_port_without_security_refuses_groups_and_pairs() -> None:
    with pytest.raises(ValidationError, match="security_groups: must be empty"):
        port(port_security=False, security_groups=["web"])
    with pytest.raises(ValidationError, match="allowed_address_pairs: must be empty"):
        port(port_security=False, allowed_address_pairs=[{"ip": "192.0.2.5"}])
    with pytest.raises(ValidationError, match="fixed_ips: an address is listed twice"):
        port(fixed_ips=["192.0.2.1", "192.0.2.1"])
    with pytest.raises(ValidationError, match="vnic_type"):
        port(vnic_type="virtio")


def test_port_device_id_may_be_empty_but_not_a_path() -> None:
    assert port(device_id="").device_id == ""
    for bad in ["../etc", "ns/1", "-n"]:
        with pytest.raises(ValidationError, match="device_id"):
            port(device_id=bad)


def test_strict_models_refuse_unknown_keys() -> None:
    with pytest.raises(ValidationError, match="port_securty"):
        Port.model_validate(port().model_dump() | {"port_securty": False})
    with pytest.raises(ValidationError, match="extra"):
        parse_vif(
            {
                "type": "ovs",
                "version": "1.0",
                "details": {
                    "bridge": "br-int",
                    "interface_id": PORT_ID,
                    "devname": "tap0",
                    "datapath_type": "netdev",
                },
            }
        )


def test_records_from_newer_peers_tolerate_new_keys() -> None:
    report = host().model_dump(mode="json") | {"gpu_count": 4}
    assert HostReport.model_validate(report).host == "cmp-1"
    binding = EXAMPLES["Binding"] | {"future_field": {"x": 1}}
    assert Binding.model_validate(binding).status == "bound"


def test_host_report_refuses_empty_version_lists_and_unknown_hypervisors() -> None:
    with pytest.raises(ValidationError, match=r"vif_types\.ovs: list at least one version"):
        host(vif_types={"ovs": []})
    with pytest.raises(ValidationError, match="hypervisor"):
        host(hypervisor="bhyve")
    with pytest.raises(ValidationError, match="physnets"):
        host(physnets={"../p": {"bridge": "br0"}})


def test_bound_binding_must_be_complete_and_consistent() -> None:
    data = EXAMPLES["Binding"]
    with pytest.raises(ValidationError, match="a bound binding needs vif"):
        Binding.model_validate(data | {"vif": None})
    with pytest.raises(ValidationError, match=r"host_enforcement\.mac_spoofing"):
        Binding.model_validate(
            data | {"protections": data["protections"] | {"mac_spoofing": "host"}}
        )
    with pytest.raises(ValidationError, match="a failed binding has none"):
        Binding.model_validate(data | {"status": "failed"})
    with pytest.raises(ValidationError, match="a failed binding says why"):
        Binding.model_validate(data | {"status": "failed", "vif": None, "decisions": []})


def test_bind_request_report_must_be_for_the_same_host() -> None:
    report = host("cmp-2").model_dump(mode="json")
    with pytest.raises(ValidationError, match=r"host_report\.host"):
        BindRequest.model_validate({"host": "cmp-1", "host_report": report})
    request = ExplainRequest.model_validate(
        {"port_id": PORT_ID, "host": "CMP-2", "host_report": report, "profile": None}
    )
    assert request.host == "cmp-2"


def test_models_are_immutable() -> None:
    net = network(vlan())
    with pytest.raises(ValidationError):
        net.mtu = 9000  # type: ignore[misc]
