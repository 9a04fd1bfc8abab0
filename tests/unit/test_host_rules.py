"""The rules a port's protections turn into (pure), and the names the plugs derive."""

from __future__ import annotations

import json

from vifbind.contract import Binding
from vifbind.contract.vifs.ovs import hybrid_names
from vifbind.host.protections.rules import port_filter

PORT = "5f1c0a52-8d0e-4c6f-9a57-2b8f3c1d9e07"


def bound(protections: dict[str, str], **extra: object) -> Binding:
    return Binding.model_validate(
        {
            "port_id": PORT,
            "host": "cmp-1",
            "status": "bound",
            "backend": "linuxbridge",
            "vif": {"type": "bridge", "version": "1.0",
                    "details": {"bridge": "brq1", "devname": "tap5f1c0a52-8d"}},
            "protections": protections,
            "host_enforcement": {k: "nftables" for k, v in protections.items() if v == "host"},
            "mac": "fa:16:3e:12:34:56",
            "mtu": 1500,
            "fixed_ips": ["192.0.2.10", "2001:db8::10"],
            "allowed_address_pairs": [{"mac": "fa:16:3e:aa:bb:cc", "ip": "192.0.2.128/25"}],
        }
        | extra
    )  # fmt: skip


ALL_HOST = {"mac_spoofing": "host", "ip_spoofing": "host", "security_groups": "host"}


def text(rules: object) -> str:
    return json.dumps(rules)


def test_every_protection_becomes_rules():
    f = port_filter(bound(ALL_HOST), "tap5f1c0a52-8d")
    assert f.macs == ("fa:16:3e:12:34:56", "fa:16:3e:aa:bb:cc")
    assert f.ipv4 == ("192.0.2.10", "192.0.2.128/25")
    assert f.ipv6 == ("2001:db8::10",)
    rules = text(f.out_rules())
    assert '"right": {"set": ["arp", "ip", "ip6"]}' in rules  # other ethertypes (VLAN, QinQ)
    assert '"saddr ether"' in rules and '"saddr ip"' in rules
    assert '"nd-router-advert"' in rules  # no rogue router
    assert '"right": 67}' in rules  # no rogue DHCP server, DHCP client allowed
    assert '{"prefix": {"addr": "192.0.2.128", "len": 25}}' in rules
    assert "fe80::f816:3eff:fe12:3456" in rules  # the link-local address of the port's MAC
    assert f.security_groups


def test_nothing_on_the_host_means_no_rules():
    network = {"mac_spoofing": "network", "ip_spoofing": "network", "security_groups": "off"}
    assert port_filter(bound(network), "tap0").out_rules() == []


def test_mac_only_does_not_check_addresses():
    f = port_filter(
        bound({"mac_spoofing": "host", "ip_spoofing": "off", "security_groups": "off"}), "tap0"
    )
    rules = text(f.out_rules())
    assert "saddr ether" in rules and '"saddr ip"' not in rules and "192.0.2.10" not in rules


def test_a_port_without_ipv4_drops_ipv4_but_keeps_dhcp():
    f = port_filter(bound(ALL_HOST, fixed_ips=[], allowed_address_pairs=[]), "tap0")
    rules = text(f.out_rules())
    assert '"right": "ip"}}, {"drop": null}' in rules
    assert '"right": "0.0.0.0"' in rules


def test_the_digest_follows_what_is_enforced():
    one = port_filter(bound(ALL_HOST), "tap0").digest()
    assert one == port_filter(bound(ALL_HOST), "tap0").digest()
    assert one != port_filter(bound(ALL_HOST, fixed_ips=["192.0.2.11"]), "tap0").digest()


def test_hybrid_names_follow_the_neutron_convention():
    names = hybrid_names("tap5f1c0a52-8d")
    assert (names.bridge, names.bridge_end, names.ovs_end) == (
        "qbr5f1c0a52-8d",
        "qvb5f1c0a52-8d",
        "qvo5f1c0a52-8d",
    )
    assert hybrid_names("vm0123456789abc").bridge == "qbrvm0123456789a"[:15]
