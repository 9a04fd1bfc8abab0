"""The validated value types: what they accept, how they normalise, what they refuse."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from vifbind.contract.types import (
    BridgeName,
    DvsUuid,
    HostName,
    InterfaceName,
    IpAddress,
    IpAddressOrPrefix,
    MacAddress,
    PciAddress,
    SafeId,
    SocketPath,
    Uuid,
)


class Holder(BaseModel):
    ifname: InterfaceName | None = None
    bridge: BridgeName | None = None
    mac: MacAddress | None = None
    uuid: Uuid | None = None
    pci: PciAddress | None = None
    ip: IpAddress | None = None
    prefix: IpAddressOrPrefix | None = None
    socket: SocketPath | None = None
    hostname: HostName | None = None
    ident: SafeId | None = None
    dvs: DvsUuid | None = None


def accepted(field: str, value: Any) -> Any:
    return getattr(Holder.model_validate({field: value}), field)


def refused(field: str, value: Any) -> str:
    with pytest.raises(ValidationError) as info:
        Holder.model_validate({field: value})
    errors = info.value.errors()
    assert [e["loc"] for e in errors] == [(field,)], "the error must name the field"
    return str(errors[0]["msg"])


@pytest.mark.parametrize("field", ["ifname", "bridge"])
@pytest.mark.parametrize(
    "value", ["eth0", "tap5f1c0a52-8d", "br-int", "a", "x" * 15, "vlan.101", "qvb_1", "9"]
)
def test_interface_and_bridge_names_accept_the_safe_alphabet(field: str, value: str) -> None:
    assert accepted(field, value) == value


@pytest.mark.parametrize("field", ["ifname", "bridge"])
@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("", "empty"),
        ("x" * 16, "longer than 15 bytes"),
        ("tap0;reboot", "may contain only"),
        ("$(id)", "may contain only"),
        ("`id`", "may contain only"),
        ("tap 0", "may contain only"),
        ("tap0\n", "may contain only"),
        ("-rf", "must not start with '-'"),
        ("--all", "must not start with '-'"),
        (".", "must not be '.'"),
        ("..", "must not be '..'"),
        ("eth/0", "may contain only"),
        ("eth:0", "may contain only"),
        ("tаp0", "may contain only"),  # Cyrillic 'а', a look-alike
        ("ｔａｐ０", "may contain only"),  # full-width look-alikes
    ],
)
def test_interface_and_bridge_names_refuse_hostile_values(field: str, value: str, why: str) -> None:
    assert why in refused(field, value)


def test_multibyte_name_counts_bytes_not_characters() -> None:
    assert "longer than 15 bytes" in refused("ifname", "é" * 8)


@pytest.mark.parametrize(
    ("value", "normal"),
    [
        ("fa:16:3e:12:34:56", "fa:16:3e:12:34:56"),
        ("FA:16:3E:12:34:56", "fa:16:3e:12:34:56"),
        ("fa-16-3e-12-34-56", "fa:16:3e:12:34:56"),
        ("02:00:00:00:00:01", "02:00:00:00:00:01"),
    ],
)
def test_mac_is_normalised(value: str, normal: str) -> None:
    assert accepted("mac", value) == normal


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("01:00:5e:00:00:01", "multicast"),
        ("ff:ff:ff:ff:ff:ff", "multicast or broadcast"),
        ("33:33:00:00:00:01", "multicast"),
        ("00:00:00:00:00:00", "not a usable"),
        ("fa:16:3e:12:34", "not a MAC"),
        ("fa:16:3e:12:34:56:78", "not a MAC"),
        ("fa:16-3e:12:34:56", "not a MAC"),
        ("fa163e123456", "not a MAC"),
        ("fa:16:3e:12:34:5g", "not a MAC"),
    ],
)
def test_mac_refuses_non_unicast_and_malformed(value: str, why: str) -> None:
    assert why in refused("mac", value)


def test_uuid_is_lowercased_and_must_be_canonical() -> None:
    assert accepted("uuid", "5F1C0A52-8D0E-4C6F-9A57-2B8F3C1D9E07") == (
        "5f1c0a52-8d0e-4c6f-9a57-2b8f3c1d9e07"
    )
    for bad in ["5f1c0a528d0e4c6f9a572b8f3c1d9e07", "{5f1c0a52-8d0e-4c6f-9a57-2b8f3c1d9e07}", "x"]:
        assert "not a UUID" in refused("uuid", bad)


def test_pci_address() -> None:
    assert accepted("pci", "0000:81:10.2") == "0000:81:10.2"
    assert accepted("pci", "0000:AF:1F.7") == "0000:af:1f.7"
    for bad in ["81:10.2", "0000:81:10.8", "0000:81:20.0", "0000:81:10.2;x", "../../0000:81:10.2"]:
        assert "not a PCI address" in refused("pci", bad)


def test_ip_addresses_are_compressed_and_unscoped() -> None:
    assert accepted("ip", "2001:db8:0:0::1") == "2001:db8::1"
    assert accepted("ip", "192.0.2.10") == "192.0.2.10"
    assert "scoped" in refused("ip", "fe80::1%eth0")
    for bad in ["192.0.2.256", "192.0.02.1", "192.0.2.0/24", "host.example"]:
        assert "not an IPv4 or IPv6 address" in refused("ip", bad)


def test_prefixes_need_clear_host_bits() -> None:
    assert accepted("prefix", "192.0.2.0/24") == "192.0.2.0/24"
    assert accepted("prefix", "192.0.2.50") == "192.0.2.50"
    assert "host bits set" in refused("prefix", "192.0.2.5/24")


@pytest.mark.parametrize(
    "value", ["/var/run/openvswitch/vhu5f1c0a52-8d", "/run/vifbind/sock", "/a:b/c.sock"]
)
def test_socket_paths_accepted(value: str) -> None:
    assert accepted("socket", value) == value


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("var/run/x.sock", "must be absolute"),
        ("./x.sock", "must be absolute"),
        ("/var/run/../../etc/shadow", "must not contain '..'"),
        ("/var/run/..", "must not contain '..'"),
        ("/var//run/x", "not normalised"),
        ("/var/run/./x", "not normalised"),
        ("/var/run/x/", "not normalised"),
        ("/var/run/x y", "may contain only"),
        ("/var/run/x\x00y", "may contain only"),
        ("/var/run/$(reboot)", "may contain only"),
        ("/" + "x" * 107, "longer than 107 bytes"),
    ],
)
def test_socket_paths_refused(value: str, why: str) -> None:
    assert why in refused("socket", value)


def test_hostnames_are_lowercased_rfc1123() -> None:
    assert accepted("hostname", "CMP-17.rack-a") == "cmp-17.rack-a"
    for bad in ["-cmp", "cmp_17", "cmp..17", "cmp 17", "", "a" * 64]:
        assert "not a host name" in refused("hostname", bad)


def test_identifiers_refuse_path_and_option_tricks() -> None:
    assert accepted("ident", "vm-uuid:1.2") == "vm-uuid:1.2"
    for bad in ["..", "-x", "a/b", "a b", "x" * 256]:
        refused("ident", bad)


def test_dvs_uuid() -> None:
    value = "50 1A 2b 3c 4d 5e 6f 70-81 92 a3 b4 c5 d6 e7 f8"
    assert accepted("dvs", value) == value.lower()
    assert "DVS UUID" in refused("dvs", "50 1a 2b")


def test_non_strings_are_refused_not_coerced() -> None:
    assert "string" in refused("ifname", 12)
    assert "string" in refused("mac", 0xFA163E123456)
