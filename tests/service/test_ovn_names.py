"""Names vifbind gives its OVN objects (no daemon needed)."""

from __future__ import annotations

import re

from vifbind.service.ovn import localnet_port_name, port_group_name

OVN_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def test_port_group_names_are_distinct_ovn_identifiers() -> None:
    groups = ("a-b", "a_b", "a.b", "a:b", "a_2db", "A-b", "web")
    names = {port_group_name(group) for group in groups}
    assert len(names) == len(groups)
    assert all(OVN_IDENTIFIER.fullmatch(name) for name in names)


def test_localnet_port_name_tells_network_and_physnet() -> None:
    name = localnet_port_name("9b2e6c1a-4f3d-4e8a-9c71-0d5b8e2f6a13", "physnet1")
    assert name == "vifbind-localnet-9b2e6c1a-4f3d-4e8a-9c71-0d5b8e2f6a13-physnet1"
