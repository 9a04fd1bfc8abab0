"""nftables enforcement: one table per family owned by vifbind, atomic JSON batches through
nftables' library (a port's change is never split between two), one chain per port named for
its port.

Layout (``bridge vifbind``): the base chain ``from_guests`` (prerouting) jumps through the map
``guest_out`` (device -> ``jump o-<port>/…``) into the port's own chain, so that adding or
removing a port touches one map element and one chain, never the other ports' rules. A macvtap's
frames never cross a bridge: its chain ``o-<port>/…`` in ``netdev vifbind`` is a base chain on the
device's egress hook. Security groups use the bridge's connection tracking through
br_netfilter: ``to_guests`` marks frames bound for a port in ``sg_ports`` and the ``inet
vifbind`` forward chain lets marked frames through only when they belong to a connection the
guest's side opened (established/related), plus neighbour discovery and DHCP replies.

A port chain's name says whose it is and what it enforces: ``o-<port>/<device>/<digest>/<sg>``
(``/`` is in no device name), so that inventory finds every port's device and notices drift from
a listing of the chains alone: ``nft`` lists 4,000 chains in some 20 ms, but takes seconds to
print their rules. A chain's name changes with what it enforces; the map element that jumps to
it changes with it, in the same batch. Chains made before this scheme (named ``o-<port>``, their
device and digest in the comment of their first rule) are read with their rules and found
drifted, so that the next reconcile replaces them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from vifbind.errors import PlugError
from vifbind.host.layout import FilterPoint
from vifbind.host.namespaces import run_in
from vifbind.host.protections.libnft import Libnft
from vifbind.host.protections.rules import (
    ACCEPT,
    DHCP6_CLIENT_PORT,
    DHCP6_SERVER_PORT,
    DHCP_CLIENT_PORT,
    DHCP_SERVER_PORT,
    DROP,
    Expr,
    PortFilter,
)

TABLE = "vifbind"
SG_MARK = 0x10000000
"""Packet mark bit of frames bound for a port whose security groups the host enforces."""
PORTS_PER_BATCH = 200
"""Ports changed by one ``nft`` batch. nft takes longer for each rule it adds to a large
ruleset (some 10 ms per port with 4,000 chains): a change of every port at once (a new rule
layout) would outlast any sensible timeout in one batch."""
_LEGACY_COMMENT = re.compile(r'comment "vifbind dev=(\S+) sum=\S+ sg=([01])"')

Family = Literal["bridge", "netdev"]


@dataclass(frozen=True, slots=True)
class ChainState:
    """A port's chain as found in the ruleset."""

    port_id: str
    family: Family
    device: str
    digest: str
    security_groups: bool

    @property
    def name(self) -> str:
        """The chain's name in its table."""
        if self.digest == LEGACY:
            return f"o-{self.port_id}"
        return f"o-{self.port_id}/{self.device}/{self.digest}/{int(self.security_groups)}"


LEGACY = "legacy"
"""The digest given to a chain of the older scheme: it matches no filter, so it is replaced."""


def parse_chains(listing: str) -> tuple[dict[str, ChainState], set[tuple[Family, str]]]:
    """vifbind's port chains in the text of ``nft list chains``, by port; and the ports whose
    chain is of the older scheme, as (family, port)."""
    found: dict[str, ChainState] = {}
    legacy: set[tuple[Family, str]] = set()
    family: Family | None = None
    for line in listing.splitlines():
        words = line.split()
        if len(words) < 2:
            continue
        if words[0] == "table":
            family = _family(words[1:])
        elif words[0] == "chain" and family is not None and words[1].startswith("o-"):
            parts = words[1].removeprefix("o-").split("/")
            if len(parts) == 4 and parts[3] in ("0", "1"):
                port, device, digest, sg = parts
                found[port] = ChainState(port, family, device, digest, sg == "1")
            elif len(parts) == 1:
                legacy.add((family, parts[0]))
    return found, legacy


def parse_legacy(listing: str, family: Family) -> dict[str, ChainState]:
    """The older scheme's port chains in the text of ``nft list table``: each one's device,
    from the comment of its first rule."""
    found: dict[str, ChainState] = {}
    port: str | None = None
    for line in listing.splitlines():
        words = line.split()
        if words[:1] == ["chain"] and len(words) > 1:
            port = words[1].removeprefix("o-") if words[1].startswith("o-") else None
        elif port is not None and port not in found:
            match = _LEGACY_COMMENT.search(line)
            if match is not None:
                found[port] = ChainState(
                    port, family, match.group(1), LEGACY, match.group(2) == "1"
                )
    return found


def _family(words: list[str]) -> Family | None:
    """The family of a ``table FAMILY NAME {`` line when the table is vifbind's."""
    if len(words) >= 2 and words[1] == TABLE and words[0] in ("bridge", "netdev"):
        return "bridge" if words[0] == "bridge" else "netdev"
    return None


class Nftables:
    """vifbind's tables in one network namespace (``None``: the agent's own)."""

    def __init__(self, netns: Path | None) -> None:
        self.netns = netns
        self._nft = Libnft(netns)

    def close(self) -> None:
        """Release nft's context and its thread."""
        self._nft.close()

    def works(self) -> bool:
        """Whether nftables works here (it is the host's only enforcement mechanism)."""
        try:
            # A dry run of a change: listing anything would have nft read (and with 1.0.6
            # even for ``list tables``) every rule of the host's ruleset, seconds with
            # thousands of chains.
            self._nft.run(f"add table inet {TABLE}", dry_run=True)
        except OSError:
            return False
        return True

    def chains(self) -> dict[str, ChainState]:
        """Every port chain vifbind has, by port id (one listing of the chains, without their
        rules; those of the older scheme are read with theirs)."""
        try:
            found, legacy = parse_chains(self._nft.run("list chains"))
            for family in sorted({family for family, _ in legacy}):
                listing = self._nft.run(f"list table {family} {TABLE}")
                found |= parse_legacy(listing, family)
        except OSError as exc:
            raise PlugError(f"nft: {exc}") from None
        return found

    def install(
        self,
        filters: Sequence[tuple[PortFilter, FilterPoint]],
        existing: Mapping[str, ChainState] | None = None,
    ) -> None:
        """Install (or replace) the chains of ``filters``: each port's change is atomic (its
        old chain goes in the batch that adds the new one), with ``PORTS_PER_BATCH`` ports to a
        batch. ``existing``: the port chains there are now, by port, when the caller has read
        them (else they are read here)."""
        if not filters:
            return
        if existing is None:
            existing = self.chains()
        commands: list[dict[str, Any]] = []
        # Each port's commands go into the batch as JSON text at once: as dicts, a batch of
        # hundreds of ports' rules was megabytes of the agent's memory.
        batch: list[str] = []
        if any(point.family == "bridge" for _, point in filters):
            commands += _bridge_base()
        if any(point.family == "netdev" for _, point in filters):
            commands.append({"add": {"table": {"family": "netdev", "name": TABLE}}})
        if any(f.security_groups for f, _ in filters):
            # The bridge hands IP frames to the inet hooks (and their connection tracking)
            # only when asked to; a per-namespace setting.
            run_in(
                self.netns,
                [
                    "sysctl",
                    "-qw",
                    "net.bridge.bridge-nf-call-iptables=1",
                    "net.bridge.bridge-nf-call-ip6tables=1",
                ],
            )
            commands += _security_group_base()
        batch += map(json.dumps, commands)
        for start in range(0, len(filters), PORTS_PER_BATCH):
            for port, point in filters[start : start + PORTS_PER_BATCH]:
                old = existing.get(port.port_id)
                batch += map(json.dumps, _removal([old]) if old is not None else [])
                batch += map(json.dumps, _port_commands(port, point))
            self._apply(batch)
            batch = []

    def remove(self, chains: Sequence[ChainState]) -> None:
        """Remove ``chains`` (and their map and set elements), ``PORTS_PER_BATCH`` to a batch."""
        for start in range(0, len(chains), PORTS_PER_BATCH):
            self._apply(list(map(json.dumps, _removal(chains[start : start + PORTS_PER_BATCH]))))

    def _apply(self, commands: list[str]) -> None:
        """Run one batch of ``commands`` (each one's JSON text)."""
        try:
            self._nft.run('{"nftables":[' + ",".join(commands) + "]}", json=True)
        except OSError as exc:
            raise PlugError(f"nft batch refused: {exc}") from None


def _bridge_base() -> list[dict[str, Any]]:
    table = {"family": "bridge", "table": TABLE}
    return [
        {"add": {"table": {"family": "bridge", "name": TABLE}}},
        {"add": {"map": {**table, "name": "guest_out", "type": "ifname", "map": "verdict"}}},
        {"add": {"set": {**table, "name": "sg_ports", "type": "ifname"}}},
        {
            "add": {
                "chain": {
                    **table,
                    "name": "from_guests",
                    "type": "filter",
                    "hook": "prerouting",
                    "prio": -200,
                    "policy": "accept",
                }
            }
        },
        {"flush": {"chain": {**table, "name": "from_guests"}}},
        {
            "add": {
                "rule": {
                    **table,
                    "chain": "from_guests",
                    "expr": [{"vmap": {"key": {"meta": {"key": "iifname"}}, "data": "@guest_out"}}],
                }
            }
        },
        {
            "add": {
                "chain": {
                    **table,
                    "name": "to_guests",
                    "type": "filter",
                    "hook": "forward",
                    # before br_netfilter hands the frame to the inet hooks (priority 0)
                    "prio": -10,
                    "policy": "accept",
                }
            }
        },
        {"flush": {"chain": {**table, "name": "to_guests"}}},
        {
            "add": {
                "rule": {
                    **table,
                    "chain": "to_guests",
                    "expr": [
                        _match("==", {"meta": {"key": "oifname"}}, "@sg_ports"),
                        {"mangle": {"key": {"meta": {"key": "mark"}}, "value": _or_mark()}},
                    ],
                }
            }
        },
    ]


def _or_mark() -> Expr:
    return {"|": [{"meta": {"key": "mark"}}, SG_MARK]}


def _match(op: str, left: Expr, right: Any) -> Expr:
    return {"match": {"op": op, "left": left, "right": right}}


def _security_group_base() -> list[dict[str, Any]]:
    table = {"family": "inet", "table": TABLE}
    marked = _match("==", {"&": [{"meta": {"key": "mark"}}, SG_MARK]}, SG_MARK)
    rules: list[list[Expr]] = [
        [marked, _match("in", {"ct": {"key": "state"}}, ["established", "related"]), ACCEPT],
        [
            marked,
            _match(
                "==",
                {"payload": {"protocol": "icmpv6", "field": "type"}},
                {
                    "set": [
                        "nd-neighbor-solicit",
                        "nd-neighbor-advert",
                        "nd-router-advert",
                        "mld-listener-query",
                    ]
                },
            ),
            ACCEPT,
        ],
        [marked, *_udp(DHCP_SERVER_PORT, DHCP_CLIENT_PORT), ACCEPT],
        [marked, *_udp(DHCP6_SERVER_PORT, DHCP6_CLIENT_PORT), ACCEPT],
        [marked, DROP],
    ]
    return [
        {"add": {"table": {"family": "inet", "name": TABLE}}},
        {
            "add": {
                "chain": {
                    **table,
                    "name": "security_groups",
                    "type": "filter",
                    "hook": "forward",
                    "prio": 0,
                    "policy": "accept",
                }
            }
        },
        {"flush": {"chain": {**table, "name": "security_groups"}}},
        *({"add": {"rule": {**table, "chain": "security_groups", "expr": r}}} for r in rules),
    ]


def _udp(sport: int, dport: int) -> list[Expr]:
    return [
        _match("==", {"payload": {"protocol": "udp", "field": "sport"}}, sport),
        _match("==", {"payload": {"protocol": "udp", "field": "dport"}}, dport),
    ]


def _port_commands(port: PortFilter, point: FilterPoint) -> list[dict[str, Any]]:
    family = point.family
    table = {"family": family, "table": TABLE}
    name = ChainState(port.port_id, family, port.device, port.digest(), port.security_groups).name
    chain: dict[str, Any] = {**table, "name": name}
    if family == "netdev":
        chain |= {
            "type": "filter",
            "hook": point.hook,
            "dev": port.device,
            "prio": 0,
            "policy": "accept",
        }
    commands: list[dict[str, Any]] = [{"add": {"chain": chain}}]
    commands += [
        {"add": {"rule": {**table, "chain": name, "expr": rule}}} for rule in port.out_rules()
    ]
    if family == "bridge":
        element = [[port.device, {"jump": {"target": name}}]]
        commands.append({"add": {"element": {**table, "name": "guest_out", "elem": element}}})
        if port.security_groups:
            commands.append(
                {"add": {"element": {**table, "name": "sg_ports", "elem": [port.device]}}}
            )
    return commands


def _removal(states: Sequence[ChainState]) -> list[dict[str, Any]]:
    commands: list[dict[str, Any]] = []
    for state in states:
        table = {"family": state.family, "table": TABLE}
        if state.family == "bridge":
            commands.append(
                {"delete": {"element": {**table, "name": "guest_out", "elem": [state.device]}}}
            )
            if state.security_groups:
                commands.append(
                    {"delete": {"element": {**table, "name": "sg_ports", "elem": [state.device]}}}
                )
        commands += [
            {"flush": {"chain": {**table, "name": state.name}}},
            {"delete": {"chain": {**table, "name": state.name}}},
        ]
    return commands
