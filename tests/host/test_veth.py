"""Veth pairs through hand-built rtnetlink requests: the RTM_NEWLINK of a pair (the peer made
directly in a guest's namespace with its name, MAC and MTU), the lookup of one device, and
``Netlink``'s crash-safe creation and opening of both ends — checked with ``ip`` for name,
MTU, MAC, namespace, mark, master and state."""

from __future__ import annotations

import errno
import json
import os
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from vifbind.errors import PlugError
from vifbind.host.layout import LinkSpec, Peer
from vifbind.host.linkdump import get_link
from vifbind.host.namespaces import open_namespace, socket_in
from vifbind.host.netlink import Netlink
from vifbind.host.rtnetlink import Requests
from vifbind.host.veth import VethPair, create_pair

from guests import Namespace

pytestmark = pytest.mark.e2e

NETLINK_ROUTE = 0
NETNS_DIR = Path("/run/netns")
OWNER = "vifbind:port-veth-test"


def device(ns: Namespace, name: str) -> dict[str, Any]:
    """``ip -d link show`` of ``name`` in ``ns``."""
    [found] = json.loads(ns.ip("-d", "-j", "link", "show", name))
    return dict(found)


def names(ns: Namespace) -> set[str]:
    return {d["ifname"] for d in json.loads(ns.ip("-j", "link"))}


@pytest.fixture
def requests_in(netns: Callable[[str], Namespace]) -> Iterator[Callable[[Namespace], Requests]]:
    """Factory of hand-built requests on a raw socket inside a namespace; closed afterwards."""
    made: list[Requests] = []

    def make(ns: Namespace) -> Requests:
        sock = socket_in(NETNS_DIR / ns.name, socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_ROUTE)
        made.append(Requests(sock))
        return made[-1]

    yield make
    for requests in made:
        requests.close()


@pytest.fixture
def netlink_in() -> Iterator[Callable[[Namespace], Netlink]]:
    made: list[Netlink] = []

    def make(ns: Namespace) -> Netlink:
        made.append(Netlink(NETNS_DIR / ns.name))
        return made[-1]

    yield make
    for netlink in made:
        netlink.close()


def test_a_pair_is_made_with_its_peer_inside_the_guest(netns, requests_in) -> None:
    host, guest = netns("h"), netns("g")
    requests = requests_in(host)
    fd = open_namespace(NETNS_DIR / guest.name)
    try:
        create_pair(requests, VethPair("vbv-host", 1400, "eth3", 1300, "fa:16:3e:0d:00:01", fd))
        with pytest.raises(OSError, match="exists") as taken:
            create_pair(requests, VethPair("vbv-other", 1400, "eth3", 1300, None, fd))
    finally:
        os.close(fd)
    assert taken.value.errno == errno.EEXIST
    assert "vbv-other" not in names(host)

    end, peer = device(host, "vbv-host"), device(guest, "eth3")
    assert end["mtu"] == 1400 and end["linkinfo"]["info_kind"] == "veth"
    assert peer["mtu"] == 1300 and peer["address"] == "fa:16:3e:0d:00:01"
    assert "UP" not in end["flags"] and "UP" not in peer["flags"]
    assert "eth3" not in names(host)

    found = get_link(requests, name="vbv-host")
    assert found is not None
    assert (found.index, found.kind, found.mtu, found.up) == (end["ifindex"], "veth", 1400, False)
    assert found.peer == peer["ifindex"]
    assert get_link(requests, index=found.index) == found
    assert get_link(requests, name="vbv-missing") is None


def test_a_pair_in_one_namespace_gets_both_names(netns, requests_in) -> None:
    host = netns("h")
    requests = requests_in(host)
    create_pair(requests, VethPair("vbv-a", 1450, "vbv-b", 1450))
    a, b = device(host, "vbv-a"), device(host, "vbv-b")
    assert a["mtu"] == b["mtu"] == 1450
    found = get_link(requests, name="vbv-a")
    assert found is not None and found.peer == b["ifindex"]


def test_created_then_opened_the_guest_end_is_the_next_free_eth(netns, netlink_in) -> None:
    host, guest = netns("h"), netns("g")
    host.ip("link", "add", "vbv-br", "type", "bridge")
    guest.ip("link", "add", "eth0", "type", "bridge")
    netlink = netlink_in(host)
    peer = Peer(name=None, netns=guest.name, mac="fa:16:3e:0d:01:01", mtu=1450)
    spec = LinkSpec("vbv-dev", "veth", OWNER, 1450, master="vbv-br", peer=peer)

    netlink.create(spec, NETNS_DIR)

    end, inside = device(host, "vbv-dev"), device(guest, "eth1")
    for created in (end, inside):
        assert created["ifalias"] == OWNER and created["mtu"] == 1450
        assert "UP" not in created["flags"] and "master" not in created
    assert inside["address"] == "fa:16:3e:0d:01:01"
    assert not [n for n in names(host) if n.startswith("vbnew")]

    netlink.open(spec, NETNS_DIR)
    netlink.release_guests()

    end, inside = device(host, "vbv-dev"), device(guest, "eth1")
    assert end["master"] == "vbv-br" and "UP" in end["flags"]
    assert "UP" in inside["flags"] and inside["mtu"] == 1450
    assert "UP" not in device(guest, "eth0")["flags"]


def test_opening_sets_a_drifted_guest_end_right(netns, netlink_in) -> None:
    host, guest = netns("h"), netns("g")
    netlink = netlink_in(host)
    spec = LinkSpec("vbv-dev", "veth", OWNER, 1500, peer=Peer(None, guest.name, mtu=1500))
    netlink.create(spec, NETNS_DIR)
    netlink.open(spec, NETNS_DIR)
    guest.ip("link", "set", "eth0", "down", "mtu", "1280")
    netlink.release_guests()

    netlink.open(spec, NETNS_DIR)

    inside = device(guest, "eth0")
    assert "UP" in inside["flags"] and inside["mtu"] == 1500


def test_a_guest_end_moved_away_is_not_opened(netns, netlink_in) -> None:
    host, guest, elsewhere = netns("h"), netns("g"), netns("x")
    netlink = netlink_in(host)
    spec = LinkSpec("vbv-dev", "veth", OWNER, 1500, peer=Peer(None, guest.name, mtu=1500))
    netlink.create(spec, NETNS_DIR)
    guest.ip("link", "set", "eth0", "netns", elsewhere.name)
    guest.ip("link", "add", "eth0", "type", "bridge")

    with pytest.raises(PlugError, match="guest end of vbv-dev is not in"):
        netlink.open(spec, NETNS_DIR)
    assert "UP" not in device(guest, "eth0")["flags"]


def test_a_peer_in_the_hosts_namespace_is_created_marked_and_opened(netns, netlink_in) -> None:
    host = netns("h")
    netlink = netlink_in(host)
    spec = LinkSpec("vbv-qvb", "veth", OWNER, 1400, peer=Peer("vbv-qvo", mtu=1400))

    netlink.create(spec, NETNS_DIR)
    for name in ("vbv-qvb", "vbv-qvo"):
        created = device(host, name)
        assert created["ifalias"] == OWNER and created["mtu"] == 1400
        assert "UP" not in created["flags"]
    assert not [n for n in names(host) if n.startswith("vbnew")]

    netlink.open(spec, NETNS_DIR)
    assert all("UP" in device(host, n)["flags"] for n in ("vbv-qvb", "vbv-qvo"))


def test_a_missing_guest_namespace_is_a_plug_error(netns, netlink_in) -> None:
    host = netns("h")
    netlink = netlink_in(host)
    spec = LinkSpec("vbv-dev", "veth", OWNER, 1500, peer=Peer(None, "vbv-no-such-guest"))
    with pytest.raises(PlugError, match="vbv-no-such-guest does not exist"):
        netlink.create(spec, NETNS_DIR)
    assert "vbv-dev" not in names(host)
    assert not [n for n in names(host) if n.startswith("vbnew")]


def test_a_pair_interrupted_before_its_marks_goes_with_the_leftover(make_host, netns) -> None:
    """A plug killed right after the pair's creation leaves the ``vbnew…`` host end, unmarked,
    and an unmarked guest end: reconcile's removal of the leftover takes the guest end too."""
    hv = make_host("hv", ovs=False)
    guest = netns("g")
    sock = socket_in(NETNS_DIR / hv.ns.name, socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_ROUTE)
    requests = Requests(sock)
    fd = open_namespace(NETNS_DIR / guest.name)
    try:
        create_pair(requests, VethPair("vbnew00000000aa", 1500, "eth0", 1500, None, fd))
    finally:
        os.close(fd)
        requests.close()
    assert "eth0" in names(guest)

    hv.host.reconcile([])

    assert "vbnew" not in hv.ns.ip("link")
    assert "eth0" not in names(guest)
