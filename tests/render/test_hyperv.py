"""Hyper-V renderings: port settings and adapter kind, checked against their typed models."""

from __future__ import annotations

from typing import Any

import pytest

from vifbind.errors import BindingNotBound, NotRenderable, UnsupportedNic, UnsupportedVifType
from vifbind.render import hyperv
from vifbind.render.nic import HYPERV as HYPERV_NICS
from vifbind.render.nic import NicRequest

from builders import bind, host, network, port, vlan
from render_cases import HYPERV, XEN, bound, failed, on_host

ACL = on_host("hyperv-port-acl", "mac_spoofing", "ip_spoofing")
SWITCH = {"vswitch": "External Switch", "vlan": 101}


def test_negotiated_binding_on_a_hyperv_host() -> None:
    hv = host(
        "hv-1",
        hypervisor="hyperv",
        vif_types={"hyperv": ["1.0"]},
        enforcement={"mac_spoofing": ["hyperv-port-acl"], "ip_spoofing": ["hyperv-port-acl"]},
        platform={"hyperv_vswitches": {"physnet1": "External Switch"}},
    )
    binding = bind(network(vlan(101)), port(fixed_ips=["192.0.2.10", "2001:db8::10"]), hv)
    rendered = hyperv.render(binding)
    assert rendered.model_dump() == {
        "port": {
            "switch_name": "External Switch",
            "mac_address": "FA163E123456",
            "static_mac_address": True,
            "vlan": {"operation_mode": "access", "access_vlan_id": 101},
            "allow_mac_spoofing": False,
            "acls": [
                {"direction": "outbound", "action": "allow", "local_address": a}
                for a in (
                    "0.0.0.0/32",
                    "::/128",
                    "fe80::f816:3eff:fe12:3456/128",
                    "192.0.2.10/32",
                    "2001:db8::10/128",
                )
            ]
            + [
                {"direction": "outbound", "action": "deny", "local_address": a}
                for a in ("0.0.0.0/0", "::/0")
            ],
        },
        "adapter": {
            "kind": "synthetic",
            "resource_sub_type": "Microsoft:Hyper-V:Synthetic Ethernet Port",
        },
    }
    assert hyperv.HypervPortSettings.model_validate_json(rendered.model_dump_json()) == rendered


def test_network_enforced_port_has_no_host_settings() -> None:
    port_ = hyperv.render(HYPERV).port
    assert (port_.allow_mac_spoofing, port_.acls) == (True, [])


def test_untagged_switch_port_has_no_vlan() -> None:
    untagged = bound("hyperv", {"vswitch": "External Switch"})
    assert hyperv.render(untagged).port.vlan is None


def test_address_pair_prefixes_become_acls() -> None:
    binding = bound("hyperv", SWITCH, allowed_address_pairs=[{"ip": "192.0.2.0/28"}], **ACL)
    allowed = [a.local_address for a in hyperv.render(binding).port.acls if a.action == "allow"]
    assert allowed[-2:] == ["192.0.2.10/32", "192.0.2.0/28"]


def test_mac_spoofing_protection_refuses_a_foreign_pair_mac() -> None:
    pairs = [{"mac": "fa:16:3e:aa:bb:cc", "ip": "192.0.2.51"}]
    with pytest.raises(NotRenderable, match=r"allowed_address_pairs\[0\]\.mac"):
        hyperv.render(bound("hyperv", SWITCH, allowed_address_pairs=pairs, **ACL))


def test_security_group_duty_without_rules_is_refused() -> None:
    groups = on_host("hyperv-port-acl", "security_groups")
    with pytest.raises(NotRenderable, match="security_groups: assigned to hyperv-port-acl"):
        hyperv.render(bound("hyperv", SWITCH, **groups))


@pytest.mark.parametrize("kind", HYPERV_NICS.models)
def test_nic_model_changes_only_the_adapter(kind: str) -> None:
    default = hyperv.render(bound("hyperv", SWITCH, **ACL))
    chosen = hyperv.render(bound("hyperv", SWITCH, **ACL), nic=NicRequest(model=kind))
    assert chosen.port == default.port
    assert chosen.adapter.kind == kind
    assert chosen.adapter.resource_sub_type == hyperv.RESOURCE_SUB_TYPES[kind]


@pytest.mark.parametrize(
    ("nic", "message"),
    [
        ({"model": "vmxnet3"}, "'vmxnet3' is not offered on hyperv"),
        ({"queues": 2}, "queues: nic model 'synthetic' on hyperv has no multiqueue"),
    ],
)
def test_bad_nic_is_refused(nic: dict[str, Any], message: str) -> None:
    with pytest.raises(UnsupportedNic, match=message):
        hyperv.render(HYPERV, nic=NicRequest.model_validate(nic))


def test_other_vif_types_and_failed_bindings_are_refused() -> None:
    with pytest.raises(UnsupportedVifType, match="hyperv cannot express a 'xen' VIF"):
        hyperv.render(XEN)
    with pytest.raises(BindingNotBound):
        hyperv.render(failed())
