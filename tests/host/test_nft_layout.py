"""A port chain's name carries its port, device and digest, so that the host reads its chains
without their rules; a chain of the older layout (named ``o-<port>``, its mark in the comment
of its first rule) is found, reported, and replaced by a reconcile without a gap in the
protection. Real OVS, nftables and forged frames."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from frames import arp_reply, received, vlan_tagged

from vifbind.host.protections.nftables import LEGACY, TABLE, parse_chains, parse_legacy

from bindings import HOST_ANTISPOOF, binding, ovs_vif, port_id

pytestmark = pytest.mark.e2e

MAC_A, MAC_B = "fa:16:3e:0c:00:01", "fa:16:3e:0c:00:02"

LISTING = """table bridge vifbind {
\tchain from_guests {
\t\ttype filter hook prerouting priority -200; policy accept;
\t}
\tchain o-p1/tap1/0123456789abcdef/1 {
\t}
\tchain o-p2 {
\t}
}
table netdev vifbind {
\tchain o-p3/mvt3/fedcba9876543210/0 {
\t\ttype filter hook egress device "mvt3" priority filter; policy accept;
\t}
}
table bridge other {
\tchain o-p4/tap4/0123456789abcdef/0 {
\t}
}
"""


def test_the_chain_listing_names_every_port_and_its_mark() -> None:
    found, legacy = parse_chains(LISTING)
    assert {p: (c.family, c.device, c.digest, c.security_groups) for p, c in found.items()} == {
        "p1": ("bridge", "tap1", "0123456789abcdef", True),
        "p3": ("netdev", "mvt3", "fedcba9876543210", False),
    }
    assert legacy == {("bridge", "p2")}
    assert found["p1"].name == "o-p1/tap1/0123456789abcdef/1"


def test_an_older_chain_is_read_from_its_first_rule() -> None:
    listing = (
        "table bridge vifbind {\n\tchain o-p2 {\n"
        '\t\tcounter packets 3 bytes 180 comment "vifbind dev=tap2 sum=00aa sg=0"\n'
        "\t\tether type != { arp, ip, ip6 } drop\n\t}\n}\n"
    )
    (state,) = parse_legacy(listing, "bridge").values()
    assert (state.port_id, state.device, state.digest, state.name) == ("p2", "tap2", LEGACY, "o-p2")


def _legacy_batch(listing: str, port: str) -> dict[str, object]:
    """The batch an older vifbind would have made for ``port``: the same rules in a chain named
    ``o-<port>`` whose first rule, a counter, carries the mark."""
    items = json.loads(listing)["nftables"]
    (chain,) = [i["chain"] for i in items if "chain" in i]
    rules = [i["rule"] for i in items if "rule" in i]
    device = chain["name"].split("/")[1]
    table = {"family": "bridge", "table": TABLE}
    name = f"o-{port}"
    mark = f"vifbind dev={device} sum=0000000000000000 sg=0"
    return {
        "nftables": [
            {"delete": {"element": {**table, "name": "guest_out", "elem": [device]}}},
            {"flush": {"chain": {**table, "name": chain["name"]}}},
            {"delete": {"chain": {**table, "name": chain["name"]}}},
            {"add": {"chain": {**table, "name": name}}},
            {"add": {"rule": {**table, "chain": name, "expr": [{"counter": None}],
                              "comment": mark}}},
            *({"add": {"rule": {**table, "chain": name, "expr": r["expr"]}}} for r in rules),
            {"add": {"element": {**table, "name": "guest_out",
                                 "elem": [[device, {"jump": {"target": name}}]]}}},
        ]
    }  # fmt: skip


def test_a_chain_of_the_older_layout_is_replaced_by_reconcile(make_host, netns, tmp_path: Path):
    hv = make_host("hv")
    a, b = netns("a"), netns("b")
    pa, pb = port_id(), port_id()
    desired = [
        binding("hv", ovs_vif(pa, hybrid=True), port=pa, mac=MAC_A, ips=["192.0.2.1"],
                device_id=a.name, protections=HOST_ANTISPOOF),
        binding("hv", ovs_vif(pb), port=pb, mac=MAC_B, ips=["192.0.2.2"], device_id=b.name),
    ]  # fmt: skip
    assert [r.outcome for r in hv.host.apply(desired)] == ["plugged", "plugged"]
    a.addr("192.0.2.1/24")
    b.addr("192.0.2.2/24")
    name = hv.host.inventory().chains[pa].name
    listing = hv.ns.exec("nft", "-j", "list", "chain", "bridge", TABLE, name)
    batch = tmp_path / "legacy.json"
    batch.write_text(json.dumps(_legacy_batch(listing, pa)))
    hv.ns.exec("nft", "-j", "-f", str(batch))
    assert not received(a, b, vlan_tagged(MAC_A), b"\x81\x00\x00\x05"), "still protected"

    found = hv.host.inventory().chains[pa]
    assert (found.name, found.digest) == (f"o-{pa}", LEGACY)
    drift = hv.host.check(desired)
    assert [(d.subject, d.detail) for d in drift] == [
        (pa, "rules in the layout of an older vifbind")
    ]
    report = hv.host.reconcile(desired)
    assert [r.outcome for r in report.results] == ["plugged", "plugged"]
    assert hv.host.check(desired) == []
    chains = hv.ns.exec("nft", "list", "chains", "bridge")
    assert f"o-{pa} " not in chains and f"o-{pa}/" in chains
    assert not received(a, b, vlan_tagged(MAC_A), b"\x81\x00\x00\x05")
    honest = arp_reply(MAC_A, MAC_A, "192.0.2.1", "192.0.2.2")
    assert received(a, b, honest, socket.inet_aton("192.0.2.1") + b"\xff" * 6)
    forged_ip = arp_reply(MAC_A, MAC_A, "192.0.2.2", "192.0.2.2")
    claim = bytes.fromhex(MAC_A.replace(":", "")) + socket.inet_aton("192.0.2.2")
    assert not received(a, b, forged_ip, claim)
    assert a.eventually_pings("192.0.2.2")
