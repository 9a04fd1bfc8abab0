"""The host: make it match the bindings it should have, and say per port how that went.

Order of a plug, so that the guest forwards nothing unprotected: devices are created down and
unenslaved (and marked); OVS ports are added in one transaction (the device exists first, or
the port stays unusable for a while); the protections go in with one nftables batch; only then
are devices enslaved and brought up.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import TracebackType

from vifbind.contract import Binding, HostReport, OvsFacts
from vifbind.errors import PlugError, UnsafeVIF
from vifbind.host import guard, reconcile
from vifbind.host.config import HostConfig
from vifbind.host.facts import host_report
from vifbind.host.guard import Vetted
from vifbind.host.held import HeldBinding, protected
from vifbind.host.inventory import Inventory, take_inventory
from vifbind.host.layout import NETWORK_OWNER_PREFIX, NEW_DEVICE_PREFIX, OWNER_PREFIX, LinkSpec
from vifbind.host.netlink import LinkState, Netlink
from vifbind.host.ovsdb import Ovsdb
from vifbind.host.protections.nftables import ChainState, Nftables
from vifbind.host.reconcile import Drift, NetworkPlan, Plan, PortPlan
from vifbind.host.results import PortResult, ReconcileReport

Peers = Mapping[str, Collection[str]]
"""Per network id, the tunnel endpoints of the other hosts that have ports on it."""
Desired = Binding | HeldBinding
"""A binding the host should hold: a contract model, or as the agent keeps it."""


class Host:
    """This host's devices, Open vSwitch and nftables, driven from bindings."""

    def __init__(self, config: HostConfig) -> None:
        self.config = config
        self._netns: Path | None = config.netns_path(config.netns) if config.netns else None
        self._netlink = Netlink(self._netns)
        self._nft = Nftables(self._netns)
        self._ovsdb: Ovsdb | None = None
        # This object is the one writer of vifbind's tables: once a read found no port chain,
        # none exists until it installs one, and plugging ports without protections need not
        # list them (nor start the nft worker).
        self._no_chains = False

    def close(self) -> None:
        """Release the netlink socket, nft's context and the OVSDB connection."""
        self._netlink.close()
        self._nft.close()
        if self._ovsdb is not None:
            self._ovsdb.close()
            self._ovsdb = None

    def __enter__(self) -> Host:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _ovs(self) -> Ovsdb | None:
        if not self.config.ovsdb:
            return None
        if self._ovsdb is None:
            self._ovsdb = Ovsdb(self.config.ovsdb, self.config.ovsdb_timeout)
        return self._ovsdb

    def _need_ovs(self) -> Ovsdb:
        ovs = self._ovs()
        if ovs is None:
            raise PlugError("this host has no Open vSwitch configured (ovsdb is empty)")
        return ovs

    # -- discovery -----------------------------------------------------------------------

    def facts(self) -> HostReport:
        """What this host can plug and enforce (OVS, bridges, physnets, nftables, SR-IOV)."""
        ovs_facts = None
        try:
            ovs = self._ovs()
            datapath = ovs.bridge_datapath(self.config.integration_bridge) if ovs else None
            if ovs is not None and datapath is not None:
                ovs_facts = OvsFacts(
                    bridge=self.config.integration_bridge,
                    datapath_type="netdev" if datapath == "netdev" else "system",
                    iface_types=ovs.iface_types(),
                    vhostuser_socket_dir=self.config.vhostuser_socket_dir,
                )
        except PlugError:
            ovs_facts = None
        return host_report(self.config, ovs_facts, self._nft.works())

    def inventory(self, *, chains_needed: bool = True) -> Inventory:
        """What is on the host now (devices, OVS interfaces, vifbind's chains). Without
        ``chains_needed``, the chains are not read when this object knows there are none."""
        known: dict[str, ChainState] | None = {} if self._no_chains and not chains_needed else None
        inventory = take_inventory(self._netlink, self._ovs(), self._nft, known)
        self._no_chains = not inventory.chains
        return inventory

    # -- convergence ---------------------------------------------------------------------

    def apply(self, desired: Sequence[Desired], peers: Peers | None = None) -> list[PortResult]:
        """Plug (or repair) every binding of ``desired``; other ports are left alone."""
        return self._converge(desired, peers, orphans=False)[1]

    def reconcile(self, desired: Sequence[Desired], peers: Peers | None = None) -> ReconcileReport:
        """Converge on exactly ``desired``: plug, repair, and remove what is orphaned."""
        plan, results, removed = self._converge(desired, peers, orphans=True)
        return ReconcileReport(drift=plan.drift(), results=results, removed=removed)

    def check(self, desired: Sequence[Desired], peers: Peers | None = None) -> list[Drift]:
        """What ``reconcile`` would change, changing nothing."""
        inventory = self.inventory()
        refused: list[tuple[str, str]] = []
        planned = reconcile.plan(
            self._vet(desired, inventory, refused), inventory, peers, refused=refused
        )
        leftovers = [
            Drift(subject=name, kind="orphan", detail="device left by an interrupted plug")
            for name in self._netlink.leftovers()
        ]
        return planned.drift() + leftovers

    def unplug(self, port_id: str) -> PortResult:
        """Remove everything vifbind created for ``port_id``; succeed when it is already gone."""
        return self.unplug_many([port_id])[0]

    def unplug_many(self, port_ids: Sequence[str]) -> list[PortResult]:
        """Remove everything vifbind created for ``port_ids`` at once; a port already gone is
        unplugged too.

        One look at the host (one link dump, one OVSDB read, one listing of the chains), one
        OVSDB transaction for every port, and the devices deleted while ovs-vswitchd removes the
        ports. When the removal fails, every port of the batch is reported failed (the next
        reconcile finishes what is left).
        """
        if not port_ids:
            return []
        try:
            ovs = self._ovs()
            found = Inventory(
                links={link.name: link for link in self._netlink.links()},
                ovs={i.name: i for i in ovs.interfaces()} if ovs is not None else {},
                chains=self._chains_of(port_ids),
            )
            changed = set(self._remove_ports(port_ids, found))
        except PlugError as exc:
            return [
                PortResult(port_id=p, outcome="failed", reason=str(exc), changed=True)
                for p in port_ids
            ]
        finally:
            self._netlink.release_guests()
        return [PortResult(port_id=p, outcome="unplugged", changed=p in changed) for p in port_ids]

    def _chains_of(self, port_ids: Sequence[str]) -> dict[str, ChainState]:
        wanted = set(port_ids)
        return {p: c for p, c in self._nft.chains().items() if p in wanted}

    def _vet(
        self, desired: Sequence[Desired], inventory: Inventory, refused: list[tuple[str, str]]
    ) -> Iterator[Vetted]:
        """The bindings the host accepts, vetted one at a time as they are asked for (a
        reconcile does not hold thousands at once); refusals are added to ``refused``."""
        seen: set[str] = set()
        for binding in desired:
            port_id = str(getattr(binding, "port_id", "?"))
            if port_id in seen:
                refused.append((port_id, "port_id: the port is listed twice"))
                continue
            seen.add(port_id)
            try:
                vetted = guard.vet(binding, self.config, inventory)
            except UnsafeVIF as exc:
                refused.append((port_id, str(exc)))
                continue
            yield vetted

    def _converge(
        self, desired: Sequence[Desired], peers: Peers | None, *, orphans: bool
    ) -> tuple[Plan, list[PortResult], list[str]]:
        try:
            return self._converge_once(desired, peers, orphans=orphans)
        finally:
            self._netlink.release_guests()

    def _converge_once(
        self, desired: Sequence[Desired], peers: Peers | None, *, orphans: bool
    ) -> tuple[Plan, list[PortResult], list[str]]:
        chains_needed = orphans or any(
            d.protected if isinstance(d, HeldBinding) else protected(d) for d in desired
        )
        inventory = self.inventory(chains_needed=chains_needed)
        # Only this object creates vbnew… devices, one plug at a time: any seen between two
        # plugs was left by a plug that was interrupted (a crash, a SIGKILL). Rare: the host is
        # read again only after removing some.
        leftovers = [name for name in inventory.links if name.startswith(NEW_DEVICE_PREFIX)]
        if leftovers:
            for name in leftovers:
                self._netlink.delete(name)
            inventory = self.inventory(chains_needed=chains_needed)
        refused: list[tuple[str, str]] = []
        plan = reconcile.plan(
            self._vet(desired, inventory, refused),
            inventory,
            peers,
            orphans=orphans,
            refused=refused,
        )
        removed = self._remove_ports(list(plan.orphan_ports), inventory)
        if plan.orphan_networks:
            links = self._netlink.links()
            for network_id in plan.orphan_networks:
                self._remove_network(network_id, links)
                removed.append(f"network {network_id}")
        replugged = [p.vetted.port_id for p in plan.ports if p.action == "replug"]
        self._remove_ports(replugged, inventory)
        failed: dict[str, str] = {}
        network_failed = self._apply_networks(plan.networks)
        to_plug = [p.vetted for p in plan.ports if p.action in ("plug", "replug")]
        for vetted in to_plug:
            network = vetted.layout.network
            if network is not None and network.network_id in network_failed:
                failed[vetted.port_id] = network_failed[network.network_id]
        # The chains there are now: the inventory's, but those of ports just removed.
        gone = set(plan.orphan_ports) | set(replugged)
        chains = {p: c for p, c in inventory.chains.items() if p not in gone}
        failed |= self._plug(
            [v for v in to_plug if v.port_id not in failed],
            [p for p in plan.ports if p.action == "repair"],
            chains,
        )
        results = [PortResult(port_id=p, outcome="refused", reason=r) for p, r in refused]
        worked = {port.vetted.port_id for port in plan.ports}
        for port_id in plan.accepted:
            if port_id in failed:
                results.append(
                    PortResult(
                        port_id=port_id, outcome="failed", reason=failed[port_id], changed=True
                    )
                )
            else:
                results.append(
                    PortResult(port_id=port_id, outcome="plugged", changed=port_id in worked)
                )
        return plan, results, removed

    def _plug(
        self, new: list[Vetted], repairs: list[PortPlan], chains: Mapping[str, ChainState]
    ) -> dict[str, str]:
        """Plug ``new`` and repair ``repairs`` in place (``chains``: the port chains there are
        now); return failures by port."""
        failed: dict[str, str] = {}
        created: list[Vetted] = []
        for vetted in new:
            try:
                for link in vetted.layout.links:
                    self._netlink.create(link, self.config.netns_dir)
                created.append(vetted)
            except (PlugError, OSError) as exc:
                failed[vetted.port_id] = str(exc)
        with_ovs = [v for v in created if v.layout.ovs is not None]
        with_ovs += [r.vetted for r in repairs if r.ovs]
        if with_ovs:
            failed |= self._add_ovs_ports(with_ovs)
        alive = [v for v in created if v.port_id not in failed]
        refilter = [r.vetted for r in repairs if r.rules and r.vetted.port_id not in failed]
        filters = [
            (v.filter, v.layout.filter)
            for v in alive + refilter
            if v.filter is not None and v.layout.filter is not None
        ]
        stale = [v.port_id for v in refilter if v.filter is None]
        try:
            self._nft.remove([chains[p] for p in stale if p in chains])
            if filters:
                self._no_chains = False
            self._nft.install(filters, chains)
        except (PlugError, OSError) as exc:
            failed |= {v.port_id: str(exc) for v in alive + refilter}
        opening = [(v, v.layout.links) for v in alive]
        opening += [(r.vetted, r.links) for r in repairs]
        for vetted, links in opening:
            if vetted.port_id in failed:
                continue
            try:
                for link in links:
                    self._netlink.open(link, self.config.netns_dir)
            except (PlugError, OSError) as exc:
                failed[vetted.port_id] = str(exc)
        undo = [v.port_id for v in new if v.port_id in failed]
        if undo:
            try:
                self._remove_ports(undo, self.inventory())
            except (PlugError, OSError) as exc:
                # They stay failed either way (and are retried): what is left of them goes
                # with the next reconcile, which says so.
                failed |= {p: f"{failed[p]}; removing what it made failed too: {exc}" for p in undo}
        return failed

    def _add_ovs_ports(self, vetted: list[Vetted]) -> dict[str, str]:
        specs = [v.layout.ovs for v in vetted if v.layout.ovs is not None]
        try:
            ovs = self._need_ovs()
            types = {s.type for s in specs if s.type}
            missing = types - set(ovs.iface_types())
            if missing:
                # Fail before touching OVS when vswitchd cannot create the interface type.
                lacking = {
                    v.port_id: f"Open vSwitch here cannot create {v.layout.ovs.type} interfaces "
                    f"(its interface types: {', '.join(ovs.iface_types())})"
                    for v in vetted
                    if v.layout.ovs is not None and v.layout.ovs.type in missing
                }
                rest = [v for v in vetted if v.port_id not in lacking]
                return lacking | (self._add_ovs_ports(rest) if rest else {})
            unopened = ovs.add_ports(specs)
        except PlugError as exc:
            return {v.port_id: str(exc) for v in vetted}
        return {
            v.port_id: f"Open vSwitch could not open {v.layout.ovs.name}: {unopened[name]}"
            for v in vetted
            if v.layout.ovs is not None and (name := v.layout.ovs.name) in unopened
        }

    def _apply_networks(self, plans: Sequence[NetworkPlan]) -> dict[str, str]:
        failed = {}
        for net in plans:
            try:
                self._apply_network(net)
            except (PlugError, OSError) as exc:
                failed[net.layout.network_id] = f"network {net.layout.network_id}: {exc}"
        return failed

    def _apply_network(self, net: NetworkPlan) -> None:
        netns_dir = self.config.netns_dir
        for link in net.recreate:
            self._netlink.delete(link.name)
        fresh: list[LinkSpec] = [*net.create, *net.recreate]
        for link in fresh:
            self._netlink.create(link, netns_dir)
        for link in net.mtu:
            self._netlink.set_mtu(link.name, link.mtu)
        vxlan = net.layout.vxlan.name
        for peer in net.remove_peers:
            self._netlink.remove_flood_peer(vxlan, peer)
        for peer in net.add_peers:
            self._netlink.add_flood_peer(vxlan, peer)
        # The network bridge carries no guest before its ports are opened, so it opens first.
        for link in (net.layout.bridge, net.layout.vxlan):
            if link in fresh or link in net.reopen:
                self._netlink.open(link, netns_dir)

    # -- removal -------------------------------------------------------------------------

    def _remove_ports(self, port_ids: Sequence[str], inventory: Inventory) -> list[str]:
        """Remove every marked device, OVS port and chain of ``port_ids``; return those that
        had something."""
        if not port_ids:
            return []
        touched: set[str | None] = set()
        wanted = set(port_ids)
        owned = [i for i in inventory.ovs.values() if i.owner in wanted]
        links = [link for link in inventory.links.values() if _owner(link.alias) in wanted]
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="vifbind-ovsdb") as pool:
            # vswitchd takes long to remove ports (the userspace datapath reconfigures for
            # each): the devices are deleted meanwhile, instead of after.
            removal = (
                pool.submit(self._need_ovs().del_ports, [i.name for i in owned]) if owned else None
            )
            self._netlink.delete_many(
                [link.name for link in links], {link.group for link in inventory.links.values()}
            )
            touched |= {_owner(link.alias) for link in links}
            if removal is not None:
                removal.result()
        touched |= {i.owner for i in owned}
        networks = {
            link.master
            for link in links
            if link.master
            and inventory.links.get(link.master) is not None
            and inventory.links[link.master].alias.startswith(NETWORK_OWNER_PREFIX)
        }
        chains = [inventory.chains[p] for p in port_ids if p in inventory.chains]
        self._nft.remove(chains)
        touched |= {c.port_id for c in chains}
        if networks:
            self._remove_unused_networks(networks, self._netlink.network_devices(networks))
        return [p for p in port_ids if p in touched]

    def _remove_unused_networks(self, bridges: Collection[str], links: list[LinkState]) -> None:
        """Remove the networks of ``bridges`` that no device uses any more (``links``: the
        bridges, their members and every network's devices now, one dump for every bridge)."""
        marks = {link.name: link.alias for link in links if link.name in bridges}
        used = {
            link.master
            for link in links
            if link.master in marks and link.alias != marks[link.master]
        }
        for bridge, mark in marks.items():
            if bridge not in used:
                self._remove_network(mark.removeprefix(NETWORK_OWNER_PREFIX), links)

    def _remove_network(self, network_id: str, links: list[LinkState]) -> None:
        mark = NETWORK_OWNER_PREFIX + network_id
        owned = [link for link in links if link.alias == mark]
        for link in sorted(owned, key=lambda s: s.kind == "bridge"):
            self._netlink.delete(link.name)


def _owner(alias: str) -> str | None:
    """The port a device's ownership mark names (``None``: not a port's device)."""
    if alias.startswith(OWNER_PREFIX) and not alias.startswith(NETWORK_OWNER_PREFIX):
        return alias.removeprefix(OWNER_PREFIX)
    return None
