"""Large nftables changes go in several batches (each port's old chain removed in the batch
that adds its new one), and a host tool that hangs fails with an error instead of stopping the
agent. Real nftables in a namespace of the test's own."""

from __future__ import annotations

from pathlib import Path

import pytest

from vifbind.host import namespaces
from vifbind.host.layout import FilterPoint
from vifbind.host.protections import nftables
from vifbind.host.protections.nftables import Nftables
from vifbind.host.protections.rules import PortFilter

pytestmark = pytest.mark.e2e


def _filters(count: int, network: int) -> list[tuple[PortFilter, FilterPoint]]:
    made = []
    for i in range(count):
        device = f"tapb{i}"
        port = PortFilter(
            port_id=f"port-{i}", device=device, mac_spoofing=True, ip_spoofing=True,
            security_groups=False, macs=(f"fa:16:3e:0b:00:{i:02x}",),
            ipv4=(f"192.0.{network}.{i + 1}",), ipv6=(),
        )  # fmt: skip
        made.append((port, FilterPoint(device, "bridge", "ingress")))
    return made


def test_many_ports_are_installed_replaced_and_removed_in_batches(netns, monkeypatch) -> None:
    ns = netns("nft")
    monkeypatch.setattr(nftables, "PORTS_PER_BATCH", 2)
    nft = Nftables(Path("/run/netns") / ns.name)
    batches: list[int] = []
    apply = nft._apply
    monkeypatch.setattr(nft, "_apply", lambda commands: (batches.append(1), apply(commands)))

    first = _filters(5, 2)
    nft.install(first)
    installed = nft.chains()
    assert {p: c.digest for p, c in installed.items()} == {f.port_id: f.digest() for f, _ in first}
    assert len(batches) == 3

    moved = _filters(5, 100)
    nft.install(moved, installed)
    replaced = nft.chains()
    assert {p: c.digest for p, c in replaced.items()} == {f.port_id: f.digest() for f, _ in moved}
    listing = ns.exec("nft", "list", "table", "bridge", nftables.TABLE)
    assert "192.0.2." not in listing and listing.count("jump o-port-") == 5

    nft.remove(list(replaced.values()))
    assert nft.chains() == {}
    assert "o-port-" not in ns.exec("nft", "list", "ruleset")
    assert len(batches) == 3 + 3 + 3


def test_a_hung_tool_is_an_error_not_a_crash(monkeypatch) -> None:
    monkeypatch.setattr(namespaces, "RUN_TIMEOUT", 0.2)
    with pytest.raises(OSError, match=r"sleep did not finish within 0\.2 s"):
        namespaces.run_in(None, ["sleep", "5"])
