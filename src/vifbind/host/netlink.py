"""Linux devices through netlink: create, open, inspect and delete them.

One netlink socket per namespace, kept open; no ``ip`` process per operation. Every device is
created down and unenslaved (isolated) and carries its ownership mark (IFLA_IFALIAS) from the
start, so that a crash between steps leaves something reconcile can find and finish.

The plug's hot path — veth pairs, marks, names, MTUs, states, masters — is rtnetlink requests
built by hand (``veth``, ``setlink``, ``linkdump``), a guest's end of a veth through one raw
socket into the guest's namespace per converge. pyroute2 serves the rarer requests (bridges,
VXLAN and macvtap devices, flood entries, deletes).
"""

from __future__ import annotations

import errno
import fcntl
import os
import re
import secrets
import socket
import struct
import threading
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vifbind.errors import PlugError
from vifbind.host.ethtool import disable_tx_checksum
from vifbind.host.layout import NETWORK_OWNER_PREFIX, NEW_DEVICE_PREFIX, LinkSpec, Peer
from vifbind.host.linkdump import RawLink, dump_flood_peers, dump_links, get_link
from vifbind.host.namespaces import open_namespace, socket_in
from vifbind.host.rtnetlink import Requests
from vifbind.host.setlink import LinkChange, delete_group, delete_link, set_link
from vifbind.host.tuntap import TapMaker
from vifbind.host.veth import VethPair, create_pair

ENOENT = 2
NETLINK_ROUTE = 0
ENODEV = 19
SIOCGIFINDEX = 0x8933
IFREQ = "16si20x"  # struct ifreq: the name, then ifr_ifindex in a 24-byte union
_ETH = re.compile(r"eth(\d+)")
ZERO_MAC = "00:00:00:00:00:00"


@dataclass(frozen=True, slots=True)
class LinkState:
    """A device as the kernel reports it."""

    name: str
    index: int
    kind: str
    alias: str
    mtu: int
    up: bool
    master: str | None
    vni: int | None = None
    local: str | None = None
    group: int = 0
    """The device group (0 unless someone set one)."""


def _state(link: RawLink, names: Mapping[int, str]) -> LinkState:
    """A dumped device as vifbind reads it (``names``: device names by index, for its
    master's)."""
    return LinkState(
        name=link.name,
        index=link.index,
        kind="tap" if link.kind == "tun" else link.kind,
        alias=link.alias,
        mtu=link.mtu,
        up=link.up,
        master=names.get(link.master) if link.master else None,
        vni=link.vni,
        local=link.local,
    )


def _new_name() -> str:
    """A fresh reserved name for a device being created (15 bytes)."""
    return NEW_DEVICE_PREFIX + secrets.token_hex(5)


def _nl(what: str, action: Callable[[], Any]) -> Any:
    from pyroute2.netlink.exceptions import NetlinkError  # noqa: PLC0415 - see _route_socket

    try:
        return action()
    except NetlinkError as exc:
        raise PlugError(f"{what}: {exc.args[1] if len(exc.args) > 1 else exc}") from None


class Netlink:
    """The devices of one network namespace (``None``: the agent's own)."""

    def __init__(self, netns: Path | None) -> None:
        self.netns = netns
        # pyroute2's clients are bound to the thread that first uses them: one per thread.
        self._local = threading.local()
        self._clients: list[Any] = []
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._taps = TapMaker(netns)

    @property
    def _ipr(self) -> Any:
        client = getattr(self._local, "ipr", None)
        if client is None:
            client = _route_socket(self.netns)
            self._local.ipr = client
            with self._lock:
                self._clients.append(client)
        return client

    @property
    def _guests(self) -> dict[Path, Requests]:
        guests: dict[Path, Requests] | None = getattr(self._local, "guests", None)
        if guests is None:
            guests = self._local.guests = {}
        return guests

    def close(self) -> None:
        """Close the netlink sockets (of every thread that used this object)."""
        self.release_guests()
        self._taps.close()
        with self._lock:
            clients, self._clients = self._clients, []
            sockets, self._sockets = self._sockets, []
        for client in clients:
            client.close()
        for sock in sockets:
            sock.close()
        self._local = threading.local()

    @property
    def _dump_socket(self) -> socket.socket:
        sock: socket.socket | None = getattr(self._local, "dump", None)
        if sock is None:
            sock = socket_in(self.netns, socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_ROUTE)
            self._local.dump = sock
            with self._lock:
                self._clients.append(sock)
        return sock

    def release_guests(self) -> None:
        """Close this thread's sockets into guest namespaces (a guest may go away between
        operations)."""
        for guest in self._guests.values():
            guest.close()
        self._guests.clear()

    def _guest(self, guest: Path) -> Requests:
        """Requests into the guest's namespace, on a raw socket opened there once."""
        if guest not in self._guests:
            if not guest.exists():
                raise PlugError(f"guest network namespace {guest.name} does not exist")
            try:
                sock = socket_in(guest, socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_ROUTE)
            except OSError as exc:
                raise PlugError(f"guest network namespace {guest.name}: {exc}") from None
            self._guests[guest] = Requests(sock)
        return self._guests[guest]

    def flood_table(self) -> dict[int, set[str]]:
        """The flood entries' remote endpoints of every VXLAN device, by device index (one
        FDB dump for all of them)."""
        return dump_flood_peers(self._dump_socket)

    def links(self) -> list[LinkState]:
        """Every device of the namespace (one dump, read by ``linkdump``: fast at thousands)."""
        raw = dump_links(self._dump_socket)
        names = {link.index: link.name for link in raw}
        return [_state(link, names) for link in raw]

    def network_devices(self, bridges: Collection[str]) -> list[LinkState]:
        """The devices called ``bridges``, those enslaved to them, and every device vifbind
        made for a network, as they are now (one dump; of a host's thousands of other devices,
        nothing is kept)."""
        raw = dump_links(self._dump_socket)
        names = {link.index: link.name for link in raw}
        wanted = {link.index for link in raw if link.name in bridges}
        return [
            _state(link, names)
            for link in raw
            if link.index in wanted
            or link.master in wanted
            or link.alias.startswith(NETWORK_OWNER_PREFIX)
        ]

    def _index(self, name: str) -> int:
        index = self._find(name)
        if index is None:
            raise PlugError(f"device {name} does not exist")
        return index

    def _find(self, name: str) -> int | None:
        """The index of ``name`` (``None``: no such device), by SIOCGIFINDEX on a socket of
        the namespace: microseconds, where a netlink lookup through pyroute2 costs about a
        millisecond."""
        request = struct.pack(IFREQ, name.encode(), 0)
        try:
            answer = fcntl.ioctl(self._names.fileno(), SIOCGIFINDEX, request)
        except OSError as exc:
            if exc.errno in (ENOENT, ENODEV):
                return None
            raise PlugError(f"device {name}: {exc.strerror}") from None
        index: int = struct.unpack(IFREQ, answer)[1]
        return index

    def _set(self, what: str, index: int, change: LinkChange) -> None:
        _set_link(self._requests, what, index, change)

    @property
    def _requests(self) -> Requests:
        """This thread's hand-built requests into the namespace."""
        requests: Requests | None = getattr(self._local, "requests", None)
        if requests is None:
            sock = socket_in(self.netns, socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_ROUTE)
            requests = self._local.requests = Requests(sock)
            with self._lock:
                self._sockets.append(sock)
        return requests

    @property
    def _names(self) -> socket.socket:
        names: socket.socket | None = getattr(self._local, "names", None)
        if names is None:
            names = self._local.names = socket_in(self.netns)
            with self._lock:
                self._sockets.append(names)
        return names

    def create(self, spec: LinkSpec, netns_dir: Path) -> None:
        """Create ``spec``'s device, down, unenslaved, with its ownership mark.

        The kernel applies IFLA_IFALIAS only to existing devices, so the device is created
        under a reserved ``vbnew…`` name (a veth's peer in the host's namespace too), marked
        (a veth's both ends), and only then renamed: a crash in between leaves a device that is
        recognisably vifbind's leftover, never an unmarked device under the binding's name.
        """
        working = _new_name()
        if spec.kind == "veth":
            index = self._create_veth(spec, working, netns_dir)
        else:
            index = self._create_single(spec, working)
        self._set(f"name {spec.name}", index, LinkChange(ifname=spec.name))

    def _create_single(self, spec: LinkSpec, working: str) -> int:
        mark = LinkChange(ifalias=spec.owner)
        if spec.kind == "tap":
            try:
                self._taps.create(working)
            except OSError as exc:
                raise PlugError(f"create tap {spec.name}: {exc.strerror or exc}") from None
            mark = LinkChange(ifalias=spec.owner, mtu=spec.mtu)  # the tun driver knows no MTU
        else:
            attrs = self._attrs(spec, working)
            _nl(f"create {spec.kind} {spec.name}", lambda: self._ipr.link("add", **attrs))
        index = self._index(working)
        self._set(f"mark {spec.name}", index, mark)
        return index

    def _create_veth(self, spec: LinkSpec, working: str, netns_dir: Path) -> int:
        """Both ends in one request (the guest's end directly in the guest's namespace, with
        its name, MAC and MTU), then both marked; the host end's index."""
        peer = spec.peer
        if peer is None:
            raise PlugError(f"{spec.name}: a veth needs a peer")
        mtu = peer.mtu or spec.mtu
        if peer.netns is None:
            inside = self._requests
            self._create_pair(spec, VethPair(working, spec.mtu, _new_name(), mtu, peer.mac))
        else:
            path = netns_dir / peer.netns
            inside = self._guest(path)
            name = peer.name or _free_eth(inside)
            fd = open_namespace(path)
            try:
                self._create_pair(spec, VethPair(working, spec.mtu, name, mtu, peer.mac, fd))
            finally:
                os.close(fd)
        made = get_link(self._requests, name=working)
        if made is None or not made.peer:
            raise PlugError(f"create veth {spec.name}: the new pair vanished")
        mark = LinkChange(ifalias=spec.owner)
        self._set(f"mark {spec.name}", made.index, mark)
        _set_link(inside, f"mark the peer of {spec.name}", made.peer, mark)
        if peer.netns is None and peer.name:
            self._set(f"name {peer.name}", made.peer, LinkChange(ifname=peer.name))
        return made.index

    def _create_pair(self, spec: LinkSpec, pair: VethPair) -> None:
        try:
            create_pair(self._requests, pair)
        except OSError as exc:
            raise PlugError(f"create veth {spec.name}: {exc.strerror}") from None

    def leftovers(self) -> list[str]:
        """Devices still under a reserved ``vbnew…`` name: left by an interrupted plug."""
        return [link.name for link in self.links() if link.name.startswith(NEW_DEVICE_PREFIX)]

    def _attrs(self, spec: LinkSpec, name: str) -> dict[str, Any]:
        attrs: dict[str, Any] = {"ifname": name, "mtu": spec.mtu, "kind": spec.kind}
        if spec.kind == "macvtap":
            attrs |= {
                "link": self._index(str(spec.parent)),
                "macvtap_mode": spec.mode,
                "address": spec.mac,
            }
        elif spec.kind == "vxlan":
            attrs |= {
                "vxlan_id": spec.vni,
                "vxlan_local": spec.local,
                "vxlan_port": spec.dstport,
                "vxlan_learning": 0,
            }
        return attrs

    def open(self, spec: LinkSpec, netns_dir: Path) -> None:
        """Give ``spec``'s device (and its peer) its MTU, enslave it to its master (if any)
        and bring it up. Also what sets a drifted device right in place."""
        if spec.peer is not None:
            found = get_link(self._requests, name=spec.name)
            if found is None:
                raise PlugError(f"device {spec.name} does not exist")
            self._open_peer(spec, spec.peer, found, netns_dir)
            index = found.index
        else:
            index = self._index(spec.name)
        master = self._index(spec.master) if spec.master is not None else 0
        # One request: the kernel sets the MTU and the master before it brings the device up.
        self._set(
            f"enslave {spec.name} to {spec.master or 'nothing'} and set it up",
            index,
            LinkChange(mtu=spec.mtu, master=master, up=True),
        )

    def _open_peer(self, spec: LinkSpec, peer: Peer, end: RawLink, netns_dir: Path) -> None:
        """The MTU and up state of the peer of ``end`` (``spec``'s device as it is now)."""
        change = LinkChange(mtu=peer.mtu or spec.mtu, up=True)
        if peer.netns is None:
            name = str(peer.name)
            if peer.tx_checksum_off:
                disable_tx_checksum(self.netns, name)
            self._set(f"set {name} up", self._index(name), change)
            return
        guest = netns_dir / peer.netns
        inside = self._guest(guest)
        # The peer's index is the guest's; the mark tells it is this veth's end, not a device
        # that took the index after the end moved away.
        found = get_link(inside, index=end.peer) if end.peer else None
        if found is None or found.alias != spec.owner:
            raise PlugError(f"the guest end of {spec.name} is not in {peer.netns}")
        if peer.tx_checksum_off:
            disable_tx_checksum(guest, found.name)
        _set_link(inside, f"set the guest end of {spec.name} up", found.index, change)

    def delete(self, name: str) -> None:
        """Delete the device ``name``; nothing happens when it is already gone."""
        index = self._find(name)
        if index is None:
            return
        try:
            delete_link(self._requests, index)
        except OSError as exc:
            if exc.errno not in (ENOENT, ENODEV):
                raise PlugError(f"delete {name}: {exc.strerror}") from None

    def delete_many(self, names: Sequence[str], groups_in_use: Collection[int]) -> None:
        """Delete the devices ``names`` in one kernel batch; those already gone are skipped.

        Deleting a device waits for the kernel's RCU grace period (some 15 ms each here); a
        device group is deleted with one wait. The devices are put in a group that no device
        had (``groups_in_use``: every device's group, from a dump), and the group is deleted.
        """
        group = 0
        while group == 0 or group in groups_in_use:
            group = 1 + secrets.randbelow(2**31 - 1)
        moved = 0
        for name in names:
            index = self._find(name)
            if index is None:
                continue
            try:
                set_link(self._requests, index, LinkChange(group=group))
                moved += 1
            except OSError as exc:
                if exc.errno not in (ENOENT, ENODEV):
                    raise PlugError(f"delete {name}: {exc.strerror}") from None
        if moved:
            try:
                delete_group(self._requests, group)
            except OSError as exc:
                raise PlugError(f"delete {', '.join(names)}: {exc.strerror}") from None

    def set_mtu(self, name: str, mtu: int) -> None:
        """Set the MTU of ``name``."""
        _set_link(self._requests, f"set mtu of {name}", self._index(name), LinkChange(mtu=mtu))

    def add_flood_peer(self, name: str, dst: str) -> None:
        """Flood unknown and broadcast frames of VXLAN device ``name`` to ``dst`` too."""
        index = self._index(name)
        _nl(
            f"add flood entry {dst} on {name}",
            lambda: self._ipr.fdb("append", ifindex=index, lladdr=ZERO_MAC, dst=dst),
        )

    def remove_flood_peer(self, name: str, dst: str) -> None:
        """Stop flooding ``name``'s frames to ``dst``."""
        index = self._index(name)
        _nl(
            f"remove flood entry {dst} on {name}",
            lambda: self._ipr.fdb("del", ifindex=index, lladdr=ZERO_MAC, dst=dst),
        )


KERNEL_LIMITS = {
    errno.EXFULL: "a Linux bridge holds at most 1,023 ports, the kernel's limit",
}
"""What the kernel's terse answers mean when a device change hits one of its limits."""


def _set_link(requests: Requests, what: str, index: int, change: LinkChange) -> None:
    try:
        set_link(requests, index, change)
    except OSError as exc:
        limit = KERNEL_LIMITS.get(exc.errno or 0)
        raise PlugError(f"{what}: {exc.strerror}" + (f" ({limit})" if limit else "")) from None


def _free_eth(guest: Requests) -> str:
    """The first unused ``ethN`` name of the guest's namespace."""
    used = {int(m.group(1)) for link in dump_links(guest.sock) if (m := _ETH.fullmatch(link.name))}
    return f"eth{next(n for n in range(len(used) + 1) if n not in used)}"


def _route_socket(netns: Path | None) -> Any:
    """An rtnetlink client whose socket lives in ``netns`` (None: here).

    pyroute2 is imported here, when a rarer request first needs it: its package imports every
    netlink family it knows, some 24 MiB of an agent that may never make such a request.
    """
    from pyroute2 import IPRoute  # noqa: PLC0415

    if netns is None:
        return IPRoute()
    sock = socket_in(netns, socket.AF_NETLINK, socket.SOCK_DGRAM, NETLINK_ROUTE)
    return IPRoute(fileno=sock.detach())
