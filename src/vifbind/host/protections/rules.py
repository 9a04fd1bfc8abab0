"""The rules that protect the network from one guest, as nftables JSON expressions (pure).

What a guest may send, per protection assigned to the host:

* ``mac_spoofing``: Ethernet and ARP sender MAC only from the port's MAC and its allowed
  address pairs' MACs.
* ``ip_spoofing``: ARP sender IP, IPv4 and IPv6 source only from the port's fixed IPs, its
  allowed address pairs and the IPv6 link-local addresses of its MACs; neighbour advertisements
  only for those addresses; no router advertisements, redirects or DHCP/DHCPv6 server replies.
  DHCP client traffic to any server stays allowed (source 0.0.0.0 for DISCOVER/REQUEST).
* for either of them: every ethertype but ARP, IPv4 and IPv6 is dropped, so that no VLAN or
  QinQ tag carries a frame past the checks.
* ``security_groups``: the port has no rule model yet (CONTRACT.md), so the host applies
  "deny inbound except established/related, allow outbound" (see ``security_groups.py``).
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
from dataclasses import dataclass
from typing import Any

from vifbind.contract import Binding

Expr = dict[str, Any]
Rule = list[Expr]

DHCP_SERVER_PORT = 67
DHCP_CLIENT_PORT = 68
DHCP6_CLIENT_PORT = 546
DHCP6_SERVER_PORT = 547
UNSPECIFIED_V4 = "0.0.0.0"  # noqa: S104 - a DHCP client's source before it has an address


@dataclass(frozen=True)
class PortFilter:
    """Everything nftables needs to protect the network from one port's guest."""

    port_id: str
    device: str
    mac_spoofing: bool
    ip_spoofing: bool
    security_groups: bool
    macs: tuple[str, ...]
    ipv4: tuple[str, ...]
    ipv6: tuple[str, ...]

    @property
    def filters_egress(self) -> bool:
        """Whether the guest's own frames are checked (any anti-spoofing on the host)."""
        return self.mac_spoofing or self.ip_spoofing

    def out_rules(self) -> list[Rule]:
        """Rules applied to the guest's frames, in order; the first match that drops wins."""
        if not self.filters_egress:
            return []
        rules: list[Rule] = [
            [_match("!=", _payload("ether", "type"), _set(["arp", "ip", "ip6"])), DROP]
        ]
        if self.mac_spoofing:
            rules += [
                [_match("!=", _payload("ether", "saddr"), _set(list(self.macs))), DROP],
                [_match("!=", _payload("arp", "saddr ether"), _set(list(self.macs))), DROP],
            ]
        if self.ip_spoofing:
            rules += self._ip_rules()
        return rules

    def _ip_rules(self) -> list[Rule]:
        rules: list[Rule] = [
            # Rogue services: a guest must not answer as a DHCP server or router.
            [*_udp(DHCP_SERVER_PORT, DHCP_CLIENT_PORT), DROP],
            [*_udp(DHCP6_SERVER_PORT, DHCP6_CLIENT_PORT), DROP],
            [_icmpv6({"nd-router-advert", "nd-redirect"}), DROP],
            [
                _match("!=", _payload("arp", "saddr ip"), _set([*self.ipv4, UNSPECIFIED_V4])),
                DROP,
            ],
            [
                _match("==", _payload("ip", "saddr"), UNSPECIFIED_V4),
                *_udp(DHCP_CLIENT_PORT, DHCP_SERVER_PORT),
                ACCEPT,
            ],
        ]
        if self.ipv4:
            rules.append([_match("!=", _payload("ip", "saddr"), _addresses(self.ipv4)), DROP])
        else:
            rules.append([_match("==", _payload("ether", "type"), "ip"), DROP])
        ipv6 = (*self.ipv6, *(_link_local(mac) for mac in self.macs))
        rules += [
            # Duplicate address detection and MLD reports leave from the unspecified address.
            [
                _match("==", _payload("ip6", "saddr"), "::"),
                _icmpv6({"nd-neighbor-solicit", "mld-listener-report", "mld2-listener-report"}),
                ACCEPT,
            ],
            [_match("!=", _payload("ip6", "saddr"), _addresses(ipv6)), DROP],
            [
                _icmpv6({"nd-neighbor-advert"}),
                _match(
                    "!=",
                    {"payload": {"base": "th", "offset": 64, "len": 128}},
                    _set([_hex128(a) for a in ipv6 if "/" not in a]),
                ),
                DROP,
            ],
        ]
        return rules

    def digest(self) -> str:
        """A short hash of everything enforced, stored with the rules to detect drift."""
        body = json.dumps([self.out_rules(), self.security_groups], sort_keys=True)
        return hashlib.sha256(body.encode()).hexdigest()[:16]


def port_filter(binding: Binding, device: str) -> PortFilter:
    """The filter for ``binding`` whose guest's frames enter the host at ``device``."""
    enforcement = binding.host_enforcement
    pairs = binding.allowed_address_pairs
    macs = _unique([binding.mac, *(p.mac for p in pairs if p.mac is not None)])
    addresses = [*binding.fixed_ips, *(p.ip for p in pairs)]
    return PortFilter(
        port_id=binding.port_id,
        device=device,
        mac_spoofing=enforcement.mac_spoofing == "nftables",
        ip_spoofing=enforcement.ip_spoofing == "nftables",
        security_groups=enforcement.security_groups == "nftables",
        macs=tuple(macs),
        ipv4=tuple(_unique([a for a in addresses if _version(a) == 4])),
        ipv6=tuple(_unique([a for a in addresses if _version(a) == 6])),
    )


DROP: Expr = {"drop": None}
ACCEPT: Expr = {"accept": None}


def _payload(protocol: str, field: str) -> Expr:
    return {"payload": {"protocol": protocol, "field": field}}


def _match(op: str, left: Expr, right: Any) -> Expr:
    return {"match": {"op": op, "left": left, "right": right}}


def _set(values: list[Any]) -> Expr:
    return {"set": values}


def _udp(sport: int, dport: int) -> Rule:
    return [
        _match("==", _payload("udp", "sport"), sport),
        _match("==", _payload("udp", "dport"), dport),
    ]


def _icmpv6(types: set[str]) -> Expr:
    return _match("==", _payload("icmpv6", "type"), _set(sorted(types)))


def _addresses(values: tuple[str, ...] | list[str]) -> Expr:
    items: list[Any] = []
    for value in values:
        if "/" in value:
            net = ipaddress.ip_network(value)
            items.append({"prefix": {"addr": str(net.network_address), "len": net.prefixlen}})
        else:
            items.append(value)
    return _set(items)


def _version(address: str) -> int:
    return ipaddress.ip_network(address, strict=False).version


def _hex128(address: str) -> str:
    return f"0x{int(ipaddress.IPv6Address(address)):032x}"


def _link_local(mac: str) -> str:
    """The EUI-64 IPv6 link-local address the kernel derives from ``mac``."""
    octets = [int(b, 16) for b in mac.split(":")]
    octets[0] ^= 0x02
    eui = [*octets[:3], 0xFF, 0xFE, *octets[3:]]
    return str(ipaddress.IPv6Address(bytes([0xFE, 0x80, 0, 0, 0, 0, 0, 0, *eui])))


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))
