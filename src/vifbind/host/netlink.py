"""Linux devices through netlink (pyroute2): create, open, inspect and delete them.

One netlink socket per namespace, kept open; no ``ip`` process per operation. Every device is
created down and unenslaved (isolated) and carries its ownership mark (IFLA_IFALIAS) from the
start, so that a crash between steps leaves something reconcile can find and finish.
"""

from __future__ import annotations

import re
import secrets
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from pyroute2 import IPRoute
from pyroute2.netlink.exceptions import NetlinkError

from vifbind.errors import PlugError
from vifbind.host.ethtool import disable_tx_checksum
from vifbind.host.layout import NEW_DEVICE_PREFIX, LinkSpec, Peer
from vifbind.host.linkdump import dump_flood_peers, dump_links
from vifbind.host.namespaces import socket_in
from vifbind.host.tuntap import create_tap

ENOENT = 2
NETLINK_ROUTE = 0
ENODEV = 19
_ETH = re.compile(r"eth(\d+)")
ZERO_MAC = "00:00:00:00:00:00"


@dataclass(frozen=True)
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


def _new_name() -> str:
    """A fresh reserved name for a device being created (15 bytes)."""
    return NEW_DEVICE_PREFIX + secrets.token_hex(5)


def _nl(what: str, action: Callable[[], Any]) -> Any:
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
        self._lock = threading.Lock()

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
    def _guests(self) -> dict[Path, Any]:
        guests: dict[Path, Any] | None = getattr(self._local, "guests", None)
        if guests is None:
            guests = self._local.guests = {}
        return guests

    def close(self) -> None:
        """Close the netlink sockets (of every thread that used this object)."""
        self.release_guests()
        with self._lock:
            clients, self._clients = self._clients, []
        for client in clients:
            client.close()
        self._local = threading.local()

    def release_guests(self) -> None:
        """Close this thread's sockets into guest namespaces (a guest may go away between
        operations)."""
        for ipr in self._guests.values():
            ipr.close()
        self._guests.clear()

    def _guest(self, guest: Path) -> Any:
        if guest not in self._guests:
            if not guest.exists():
                raise PlugError(f"guest network namespace {guest.name} does not exist")
            try:
                self._guests[guest] = _route_socket(guest)
            except OSError as exc:
                raise PlugError(f"guest network namespace {guest.name}: {exc}") from None
        return self._guests[guest]

    @property
    def _dump_socket(self) -> socket.socket:
        sock: socket.socket | None = getattr(self._local, "dump", None)
        if sock is None:
            sock = socket_in(self.netns, socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_ROUTE)
            self._local.dump = sock
            with self._lock:
                self._clients.append(sock)
        return sock

    def flood_table(self) -> dict[int, set[str]]:
        """The flood entries' remote endpoints of every VXLAN device, by device index (one
        FDB dump for all of them)."""
        return dump_flood_peers(self._dump_socket)

    def links(self) -> list[LinkState]:
        """Every device of the namespace (one dump, read by ``linkdump``: fast at thousands)."""
        raw = dump_links(self._dump_socket)
        names = {link.index: link.name for link in raw}
        return [
            LinkState(
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
            for link in raw
        ]

    def link(self, name: str) -> LinkState | None:
        """The device called ``name``, or ``None``."""
        try:
            msg = self._ipr.link("get", ifname=name)[0]
        except NetlinkError as exc:
            if exc.code in (ENOENT, ENODEV):
                return None
            raise PlugError(f"{name}: {exc}") from None
        master = msg.get("IFLA_MASTER")
        names = {}
        if master:
            names[master] = self._ipr.link("get", index=master)[0].get("IFLA_IFNAME")
        return self._state(msg, names)

    @staticmethod
    def _state(msg: Any, names: dict[int, str]) -> LinkState:
        info = msg.get("IFLA_LINKINFO")
        kind = info.get("IFLA_INFO_KIND") if info is not None else None
        data = info.get("IFLA_INFO_DATA") if info is not None else None
        vni = local = None
        if kind == "vxlan" and data is not None:
            vni = data.get("IFLA_VXLAN_ID")
            local = data.get("IFLA_VXLAN_LOCAL")
        if kind == "tun":
            kind = "tap"
        master = msg.get("IFLA_MASTER")
        return LinkState(
            name=msg.get("IFLA_IFNAME"),
            index=msg["index"],
            kind=kind or "",
            alias=msg.get("IFLA_IFALIAS") or "",
            mtu=msg.get("IFLA_MTU"),
            up=bool(msg["flags"] & 1),
            master=names.get(master) if master else None,
            vni=vni,
            local=local,
        )

    def _index(self, name: str) -> int:
        found = self._ipr.link_lookup(ifname=name)
        if not found:
            raise PlugError(f"device {name} does not exist")
        index: int = found[0]
        return index

    def create(self, spec: LinkSpec, netns_dir: Path) -> None:
        """Create ``spec``'s device, down, unenslaved, with its ownership mark.

        The kernel applies IFLA_IFALIAS only to existing devices, so the device (and a peer in
        the host's namespace) is created under a reserved ``vbnew…`` name, marked, and only then
        renamed: a crash in between leaves a device that is recognisably vifbind's leftover,
        never an unmarked device under the binding's name.
        """
        final = spec.name
        working = replace(spec, name=_new_name())
        peer_final = None
        if working.peer is not None and working.peer.netns is None:
            peer_final = working.peer.name
            working = replace(working, peer=replace(working.peer, name=_new_name()))
        peer_name = None
        if working.kind == "tap":
            try:
                create_tap(self.netns, working.name)
            except OSError as exc:
                raise PlugError(f"create tap {final}: {exc.strerror or exc}") from None
            index = self._index(working.name)
            _nl(f"set mtu of {final}", lambda: self._ipr.link("set", index=index, mtu=spec.mtu))
        else:
            attrs = self._attrs(working, netns_dir)
            peer_name = attrs.get("peer", {}).get("ifname")
            _nl(f"create {spec.kind} {final}", lambda: self._ipr.link("add", **attrs))
        index = self._index(working.name)
        _nl(f"mark {final}", lambda: self._ipr.link("set", index=index, ifalias=spec.owner))
        if working.peer is not None and peer_name is not None:
            self._mark_peer(working.peer, peer_name, spec.owner, netns_dir)
        if peer_final is not None and peer_name is not None:
            peer_index = self._index(peer_name)
            _nl(
                f"name {peer_final}",
                lambda: self._ipr.link("set", index=peer_index, ifname=peer_final),
            )
        _nl(f"name {final}", lambda: self._ipr.link("set", index=index, ifname=final))

    def leftovers(self) -> list[str]:
        """Devices still under a reserved ``vbnew…`` name: left by an interrupted plug."""
        return [link.name for link in self.links() if link.name.startswith(NEW_DEVICE_PREFIX)]

    def _attrs(self, spec: LinkSpec, netns_dir: Path) -> dict[str, Any]:
        attrs: dict[str, Any] = {"ifname": spec.name, "mtu": spec.mtu, "kind": spec.kind}
        if spec.kind == "veth":
            if spec.peer is None:
                raise PlugError(f"{spec.name}: a veth needs a peer")
            attrs["peer"] = self._peer_attrs(spec.peer, spec, netns_dir)
        elif spec.kind == "macvtap":
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

    def _mark_peer(self, peer: Peer, name: str, owner: str, netns_dir: Path) -> None:
        if peer.netns is None:
            index = self._index(name)
            _nl(f"mark {name}", lambda: self._ipr.link("set", index=index, ifalias=owner))
            return
        ipr = self._guest(netns_dir / peer.netns)
        found = ipr.link_lookup(ifname=name)
        if not found:
            raise PlugError(f"guest end {name} vanished from {peer.netns}")
        _nl(f"mark {name}", lambda: ipr.link("set", index=found[0], ifalias=owner))

    def _peer_attrs(self, peer: Peer, spec: LinkSpec, netns_dir: Path) -> dict[str, Any]:
        attrs: dict[str, Any] = {"mtu": peer.mtu or spec.mtu}
        if peer.mac is not None:
            attrs["address"] = peer.mac
        if peer.netns is None:
            attrs["ifname"] = peer.name
            return attrs
        guest = netns_dir / peer.netns
        attrs["net_ns_fd"] = str(guest)
        attrs["ifname"] = peer.name or self.free_eth(guest)
        return attrs

    def free_eth(self, guest: Path) -> str:
        """The guest's first unused ``ethN`` name."""
        used = {
            int(m.group(1))
            for msg in self._guest(guest).get_links()
            if (m := _ETH.fullmatch(msg.get("IFLA_IFNAME") or ""))
        }
        return f"eth{next(n for n in range(len(used) + 1) if n not in used)}"

    def open(self, spec: LinkSpec, netns_dir: Path) -> None:
        """Give ``spec``'s device (and its peer) its MTU, enslave it to its master (if any)
        and bring it up. Also what sets a drifted device right in place."""
        index = self._index(spec.name)
        _nl(f"set mtu of {spec.name}", lambda: self._ipr.link("set", index=index, mtu=spec.mtu))
        if spec.peer is not None:
            self._open_peer(spec, spec.peer, netns_dir)
        master = self._index(spec.master) if spec.master is not None else 0
        _nl(
            f"enslave {spec.name} to {spec.master or 'nothing'}",
            lambda: self._ipr.link("set", index=index, master=master),
        )
        _set_up(self._ipr, index, spec.name)

    def _open_peer(self, spec: LinkSpec, peer: Peer, netns_dir: Path) -> None:
        mtu = peer.mtu or spec.mtu
        if peer.netns is None:
            name = str(peer.name)
            if peer.tx_checksum_off:
                disable_tx_checksum(self.netns, name)
            _set_mtu_and_up(self._ipr, self._index(name), mtu, name)
            return
        guest = netns_dir / peer.netns
        ipr = self._guest(guest)
        for msg in ipr.get_links():
            if msg.get("IFLA_IFALIAS") != spec.owner:
                continue
            if peer.tx_checksum_off:
                disable_tx_checksum(guest, msg.get("IFLA_IFNAME"))
            _set_mtu_and_up(ipr, msg["index"], mtu, f"guest end of {spec.name}")

    def delete(self, name: str) -> None:
        """Delete the device ``name``; nothing happens when it is already gone."""
        found = self._ipr.link_lookup(ifname=name)
        if not found:
            return
        try:
            self._ipr.link("del", index=found[0])
        except NetlinkError as exc:
            if exc.code not in (ENOENT, ENODEV):
                raise PlugError(f"delete {name}: {exc}") from None

    def set_mtu(self, name: str, mtu: int) -> None:
        """Set the MTU of ``name``."""
        index = self._index(name)
        _nl(f"set mtu of {name}", lambda: self._ipr.link("set", index=index, mtu=mtu))

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


def _set_mtu_and_up(ipr: Any, index: int, mtu: int, what: str) -> None:
    _nl(f"set mtu of {what}", lambda: ipr.link("set", index=index, mtu=mtu))
    _set_up(ipr, index, what)


def _set_up(ipr: Any, index: int, what: str) -> None:
    _nl(f"set {what} up", lambda: ipr.link("set", index=index, state="up"))


def _route_socket(netns: Path | None) -> Any:
    """An rtnetlink client whose socket lives in ``netns`` (None: here)."""
    if netns is None:
        return IPRoute()
    sock = socket_in(netns, socket.AF_NETLINK, socket.SOCK_DGRAM, NETLINK_ROUTE)
    return IPRoute(fileno=sock.detach())
