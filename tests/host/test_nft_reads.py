"""A host reads its nftables chains (an ``nft`` process) only when it has to: plugging ports
without protections skips the read once it knows vifbind holds no chain; a protected port, a
host with chains, and every reconcile read them. Real OVS and nftables; the reads are counted
around the real method."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from vifbind.host.protections.nftables import ChainState

from bindings import binding, ovs_vif, port_id

pytestmark = pytest.mark.e2e

OPEN = {"mac_spoofing": "off", "ip_spoofing": "off", "security_groups": "off"}
PROTECTED = {"mac_spoofing": "host", "ip_spoofing": "host", "security_groups": "off"}


def test_chains_are_read_only_when_they_may_matter(make_host: Callable[..., Any]) -> None:
    hv = make_host("hv", hypervisor="kvm")
    reads: list[dict[str, ChainState]] = []
    real_chains = hv.host._nft.chains

    def chains() -> dict[str, ChainState]:
        reads.append(real_chains())
        return reads[-1]

    hv.host._nft.chains = chains

    def port(n: int, protections: dict[str, str]) -> Any:
        p = port_id()
        vif = ovs_vif(p, hybrid=protections is PROTECTED)
        mac = f"fa:16:3e:00:01:{n:02x}"
        return binding("hv", vif, port=p, mac=mac, ips=[f"192.0.2.{n}"], protections=protections)

    first, second, guarded, later = port(1, OPEN), port(2, OPEN), port(3, PROTECTED), port(4, OPEN)
    assert hv.host.apply([first])[0].outcome == "plugged"
    assert len(reads) == 1 and reads[0] == {}, "read once: nothing known yet"
    assert hv.host.apply([second])[0].outcome == "plugged"
    assert len(reads) == 1, "no chain anywhere, none needed: not read"
    assert hv.host.apply([guarded])[0].outcome == "plugged"
    assert len(reads) == 2, "a protected port: read"
    assert hv.host.apply([later])[0].outcome == "plugged"
    assert len(reads) == 3, "the host holds a chain now: read"
    report = hv.host.reconcile([first, second, guarded, later])
    assert len(reads) == 4 and set(reads[-1]) == {guarded.port_id}
    assert report.drift == [] and all(r.outcome == "plugged" for r in report.results)
