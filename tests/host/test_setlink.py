"""RTM_SETLINK and RTM_DELLINK requests built by hand change (or delete) real devices as
asked, and the kernel's refusals come back as the errno it gave."""

from __future__ import annotations

import errno
import json
import socket
from collections.abc import Callable
from pathlib import Path

import pytest

from vifbind.host.namespaces import socket_in
from vifbind.host.rtnetlink import Requests
from vifbind.host.setlink import LinkChange, delete_group, delete_link, set_link

from guests import Namespace

pytestmark = pytest.mark.e2e

NETLINK_ROUTE = 0


def test_mark_rename_enslave_and_bring_up(netns: Callable[[str], Namespace]) -> None:
    ns = netns("h")
    ns.ip("link", "add", "vbs-old", "type", "veth", "peer", "name", "vbs-peer")
    ns.ip("link", "add", "vbs-br", "type", "bridge")
    ns.ip("link", "add", "vbs-other", "type", "bridge")
    index = json.loads(ns.ip("-j", "link", "show", "vbs-old"))[0]["ifindex"]
    bridge = json.loads(ns.ip("-j", "link", "show", "vbs-br"))[0]["ifindex"]
    sock = socket_in(Path(f"/run/netns/{ns.name}"), socket.AF_NETLINK, socket.SOCK_RAW,
                     NETLINK_ROUTE)  # fmt: skip
    requests = Requests(sock)
    try:
        set_link(requests, index, LinkChange(ifalias="vifbind:test", mtu=1400, group=7))
        set_link(requests, index, LinkChange(ifname="vbs-new"))
        set_link(requests, index, LinkChange(master=bridge, up=True))
        with pytest.raises(OSError, match="exists") as refused:
            set_link(requests, index, LinkChange(ifname="vbs-other"))
        assert refused.value.errno == errno.EEXIST
        set_link(requests, index, LinkChange(master=0))
    finally:
        requests.close()
    [device] = json.loads(ns.ip("-d", "-j", "link", "show", "vbs-new"))
    assert device["ifalias"] == "vifbind:test" and device["mtu"] == 1400
    assert device["group"] == "7" or device["group"] == 7
    assert "UP" in device["flags"] and "master" not in device
    assert "vbs-old" not in ns.ip("link")


def test_delete_one_device_and_a_group(netns: Callable[[str], Namespace]) -> None:
    ns = netns("d")
    for name in ("vbd-one", "vbd-a", "vbd-b", "vbd-keep"):
        ns.ip("link", "add", name, "type", "bridge")
    for name in ("vbd-a", "vbd-b"):
        ns.ip("link", "set", name, "group", "4242")
    index = json.loads(ns.ip("-j", "link", "show", "vbd-one"))[0]["ifindex"]
    sock = socket_in(Path(f"/run/netns/{ns.name}"), socket.AF_NETLINK, socket.SOCK_RAW,
                     NETLINK_ROUTE)  # fmt: skip
    requests = Requests(sock)
    try:
        delete_link(requests, index)
        with pytest.raises(OSError, match="No such device") as gone:
            delete_link(requests, index)
        assert gone.value.errno == errno.ENODEV
        delete_group(requests, 4242)
    finally:
        requests.close()
    names = {d["ifname"] for d in json.loads(ns.ip("-j", "link", "show"))}
    assert names == {"lo", "vbd-keep"}
