"""Xen renderings: the XenAPI VIF.create record and NIC, checked against their typed models."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from vifbind.errors import BindingNotBound, NotRenderable, UnsupportedNic, UnsupportedVifType
from vifbind.render import xen
from vifbind.render.attachment import HostAttachment
from vifbind.render.nic import XEN as XEN_NICS
from vifbind.render.nic import NicRequest

from builders import PORT_ID, XEN_POOL_A_NET, bind, host, network, port, vlan
from render_cases import HOST_OFF, LIBVIRT_CASES, XEN, bound, failed, on_host

VIF_CREATE_FIELDS = {
    "device",
    "network",
    "VM",
    "MAC",
    "MTU",
    "other_config",
    "qos_algorithm_type",
    "qos_algorithm_params",
    "locking_mode",
    "ipv4_allowed",
    "ipv6_allowed",
}
"""The constructor arguments of XenAPI ``VIF.create``."""

XEN_HOST = host(
    "xs-a-1",
    hypervisor="xen",
    vif_types={"xen": ["1.0"]},
    enforcement={"mac_spoofing": ["xen-vif-locking"], "ip_spoofing": ["xen-vif-locking"]},
    platform={"xen_networks": {"physnet1:101": XEN_POOL_A_NET}},
)
LOCKED = on_host("xen-vif-locking", "mac_spoofing", "ip_spoofing")


def xen_binding(**fields: Any) -> Any:
    return bound("xen", {"network_uuid": XEN_POOL_A_NET}, **LOCKED | fields)


def test_negotiated_binding_on_a_xen_pool() -> None:
    binding = bind(network(vlan(101)), port(fixed_ips=["192.0.2.10", "2001:db8::10"]), XEN_HOST)
    rendered = xen.render(binding)
    assert rendered.model_dump(by_alias=True) == {
        "vif": {
            "device": "0",
            "network_uuid": XEN_POOL_A_NET,
            "MAC": "fa:16:3e:12:34:56",
            "MTU": 1500,
            "other_config": {"nicira-iface-id": PORT_ID},
            "qos_algorithm_type": "",
            "qos_algorithm_params": {},
            "locking_mode": "locked",
            "ipv4_allowed": ["192.0.2.10"],
            "ipv6_allowed": ["2001:db8::10"],
        },
        "nic": {"model": "netfront"},
    }
    assert xen.XenVif.model_validate_json(rendered.model_dump_json(by_alias=True)) == rendered


def test_create_args_are_exactly_vif_create_s() -> None:
    record = xen.render(xen_binding()).vif
    args = record.create_args("OpaqueRef:vm-1", "OpaqueRef:net-1")
    assert set(args) == VIF_CREATE_FIELDS
    assert (args["VM"], args["network"], args["MAC"], args["MTU"]) == (
        "OpaqueRef:vm-1",
        "OpaqueRef:net-1",
        "fa:16:3e:12:34:56",
        1442,
    )


def test_pairs_with_the_own_mac_are_allowed_addresses() -> None:
    pairs = [{"ip": "192.0.2.50"}, {"mac": "fa:16:3e:12:34:56", "ip": "2001:db8::50/128"}]
    vif = xen.render(xen_binding(allowed_address_pairs=pairs)).vif
    assert (vif.ipv4_allowed, vif.ipv6_allowed) == (["192.0.2.10", "192.0.2.50"], ["2001:db8::50"])


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"allowed_address_pairs": [{"mac": "fa:16:3e:aa:bb:cc", "ip": "192.0.2.51"}]},
            r"allowed_address_pairs\[0\]\.mac: fa:16:3e:aa:bb:cc is not the port's MAC",
        ),
        (
            {"allowed_address_pairs": [{"ip": "192.0.2.0/28"}]},
            r"allowed_address_pairs\[0\]\.ip: 192.0.2.0/28 is a prefix",
        ),
        (
            on_host("xen-vif-locking", "mac_spoofing"),
            "locks the MAC and the IP addresses together, but the binding assigns it only "
            "mac_spoofing",
        ),
    ],
)
def test_what_vif_locking_cannot_express_is_refused(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(NotRenderable, match=message):
        xen.render(xen_binding(**fields))


def test_locking_mode_follows_who_enforces() -> None:
    network_side = bound("xen", {"network_uuid": XEN_POOL_A_NET})
    assert xen.render(network_side).vif.locking_mode == "network_default"
    unprotected = bound("xen", {"network_uuid": XEN_POOL_A_NET}, protections=HOST_OFF)
    assert xen.render(unprotected).vif.locking_mode == "unlocked"
    locked = xen.render(xen_binding(fixed_ips=[])).vif
    assert (locked.locking_mode, locked.ipv4_allowed, locked.ipv6_allowed) == ("locked", [], [])


@pytest.mark.parametrize("model", XEN_NICS.models)
def test_nic_model_changes_only_the_nic_part(model: str) -> None:
    default = xen.render(XEN)
    chosen = xen.render(XEN, nic=NicRequest(model=model))
    assert chosen.vif == default.vif
    assert chosen.nic.model == model


def test_host_attachment_sets_the_device_number() -> None:
    assert xen.render(XEN, HostAttachment(xen_device=2)).vif.device == "2"


def test_bad_nic_is_refused() -> None:
    with pytest.raises(UnsupportedNic, match="'virtio' is not offered on xen"):
        xen.render(XEN, nic=NicRequest(model="virtio"))
    with pytest.raises(UnsupportedNic, match="queues: nic model 'netfront' on xen has no multi"):
        xen.render(XEN, nic=NicRequest(queues=2))


def test_the_typed_record_refuses_a_misfiled_address() -> None:
    record = xen.render(XEN).vif.model_dump(by_alias=True)
    with pytest.raises(ValidationError, match="ipv4_allowed: 2001:db8::1 is not an IPv4"):
        xen.XenVifRecord.model_validate(record | {"ipv4_allowed": ["2001:db8::1"]})


def test_other_vif_types_and_failed_bindings_are_refused() -> None:
    with pytest.raises(UnsupportedVifType, match="xen cannot express a 'bridge' VIF"):
        xen.render(LIBVIRT_CASES["bridge"].binding)
    with pytest.raises(BindingNotBound):
        xen.render(failed())
