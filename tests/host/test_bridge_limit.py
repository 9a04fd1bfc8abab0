"""A Linux bridge holds at most 1,023 ports: the next device the host tries to enslave fails
with an error that says so, not the kernel's bare "Exchange full". Real bridge and veths in a
namespace of the test's own."""

from __future__ import annotations

from pathlib import Path

import pytest

from vifbind.errors import PlugError
from vifbind.host.layout import LinkSpec
from vifbind.host.netlink import Netlink

pytestmark = pytest.mark.e2e

NETNS_DIR = Path("/run/netns")
BRIDGE_PORTS_MAX = 1023


def test_a_full_bridge_is_named_as_the_reason(netns, tmp_path) -> None:
    ns = netns("full")
    ns.ip("link", "add", "vbfull", "type", "bridge")
    batch = tmp_path / "fill"
    batch.write_text(
        "".join(
            f"link add vbf{i} type veth peer name vbp{i}\nlink set vbf{i} master vbfull\n"
            for i in range(BRIDGE_PORTS_MAX)
        )
    )
    ns.exec("ip", "-batch", str(batch))
    ns.ip("link", "add", "vbextra", "type", "veth", "peer", "name", "vbextrap")
    netlink = Netlink(NETNS_DIR / ns.name)
    try:
        spec = LinkSpec(name="vbextra", kind="veth", owner="vifbind:p", mtu=1500, master="vbfull")
        with pytest.raises(PlugError, match=r"Exchange full \(a Linux bridge holds at most 1,023"):
            netlink.open(spec, NETNS_DIR)
    finally:
        netlink.close()
    assert "master vbfull" not in ns.ip("link", "show", "vbextra")
