"""Desired bindings against what is on the host: the drift, and the plan that removes it.

Pure: from vetted bindings, an inventory and the peers of each network to a plan. Executing a
plan is the host's job (``host.py``); ``check`` only reports it.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict

from vifbind.host.guard import Vetted
from vifbind.host.inventory import Inventory
from vifbind.host.layout import LinkSpec, NetworkLayout
from vifbind.host.protections.nftables import LEGACY

PortAction = Literal["keep", "plug", "replug", "repair"]
"""``plug``: nothing there yet; ``replug``: a device is missing or of the wrong kind, so the port
is removed and plugged again; ``repair``: fixed in place (MTU, bridge, state, OVS port, rules),
so that the guest keeps its NIC; ``keep``: as it should be."""
DriftKind = Literal["missing", "drift", "orphan", "refused"]


class Drift(BaseModel):
    """One difference between what should be on the host and what is."""

    model_config = ConfigDict(frozen=True)

    subject: str
    """The port id, or ``network <id>``."""
    kind: DriftKind
    detail: str


@dataclass(frozen=True)
class PortPlan:
    """What to do for one desired port."""

    vetted: Vetted
    action: PortAction
    reasons: tuple[str, ...] = ()
    links: tuple[LinkSpec, ...] = ()
    """``repair``: the devices to set right in place."""
    ovs: bool = False
    """``repair``: whether the OVS port is added again."""
    rules: bool = False
    """``repair``: whether the nftables chain is installed again."""


@dataclass(frozen=True)
class NetworkPlan:
    """What to do for one network's shared devices."""

    layout: NetworkLayout
    create: tuple[LinkSpec, ...] = ()
    recreate: tuple[LinkSpec, ...] = ()
    reopen: tuple[LinkSpec, ...] = ()
    mtu: tuple[LinkSpec, ...] = ()
    add_peers: tuple[str, ...] = ()
    remove_peers: tuple[str, ...] = ()

    def changes(self) -> list[str]:
        """What this plan changes, one line each."""
        return (
            [f"device {link.name} missing" for link in self.create]
            + [f"device {link.name} has the wrong VXLAN settings" for link in self.recreate]
            + [f"device {link.name} is down or off its bridge" for link in self.reopen]
            + [f"device {link.name} MTU should be {link.mtu}" for link in self.mtu]
            + [f"flood entry to {peer} missing" for peer in self.add_peers]
            + [f"flood entry to {peer} stale" for peer in self.remove_peers]
        )


@dataclass(frozen=True)
class Plan:
    """Everything that would converge the host."""

    ports: tuple[PortPlan, ...]
    """The desired ports that need work (plug, replug or repair)."""
    accepted: tuple[str, ...] = ()
    """Every desired port the host accepted, in order: those not in ``ports`` are as they
    should be (their vetted bindings are not kept: a reconcile plans thousands)."""
    networks: tuple[NetworkPlan, ...] = ()
    orphan_ports: tuple[str, ...] = ()
    orphan_networks: tuple[str, ...] = ()
    refused: tuple[tuple[str, str], ...] = field(default=())
    """(port id, reason) of desired bindings the host refuses."""

    def drift(self) -> list[Drift]:
        """The plan as a list of differences a person can read."""
        found: list[Drift] = []
        for port in self.ports:
            if port.action == "plug":
                found.append(
                    Drift(subject=port.vetted.port_id, kind="missing", detail="not plugged")
                )
            elif port.action != "keep":
                found += [
                    Drift(subject=port.vetted.port_id, kind="drift", detail=reason)
                    for reason in port.reasons
                ]
        for net in self.networks:
            subject = f"network {net.layout.network_id}"
            found += [Drift(subject=subject, kind="drift", detail=c) for c in net.changes()]
        found += [
            Drift(subject=p, kind="orphan", detail="marked on this host, no binding")
            for p in self.orphan_ports
        ]
        found += [
            Drift(subject=f"network {n}", kind="orphan", detail="no binding on this network")
            for n in self.orphan_networks
        ]
        found += [Drift(subject=p, kind="refused", detail=reason) for p, reason in self.refused]
        return found


@dataclass(frozen=True)
class LinkDrift:
    """How one device differs from its spec."""

    reasons: tuple[str, ...] = ()
    recreate: bool = False
    """Whether only a new device can set it right (missing, or of another kind)."""


def link_drift(link: LinkSpec, inventory: Inventory) -> LinkDrift:
    """How the device of ``link`` differs from the spec (no reasons: as it should be)."""
    found = inventory.links.get(link.name)
    if found is None:
        return LinkDrift((f"device {link.name} missing",), recreate=True)
    if found.kind != link.kind:
        return LinkDrift(
            (f"device {link.name} is a {found.kind}, should be a {link.kind}",), recreate=True
        )
    peer = link.peer
    if peer is not None and peer.netns is None and peer.name and peer.name not in inventory.links:
        return LinkDrift((f"device {peer.name} missing",), recreate=True)
    reasons = []
    if found.master != link.master:
        reasons.append(
            f"device {link.name} is on {found.master or 'no bridge'}, "
            f"should be on {link.master or 'no bridge'}"
        )
    if found.mtu != link.mtu:
        reasons.append(f"device {link.name} MTU is {found.mtu}, should be {link.mtu}")
    if not found.up:
        reasons.append(f"device {link.name} is down")
    return LinkDrift(tuple(reasons))


def ovs_drift(vetted: Vetted, inventory: Inventory) -> list[str]:
    """How the binding's OVS port differs from its layout."""
    spec = vetted.layout.ovs
    if spec is None:
        return []
    iface = inventory.ovs.get(spec.name)
    if iface is None:
        return [f"OVS port {spec.name} missing"]
    reasons = []
    if iface.bridge != spec.bridge:
        reasons.append(f"OVS port {spec.name} is on {iface.bridge}, not {spec.bridge}")
    wrong = sorted(k for k, v in spec.external_ids.items() if iface.external_ids.get(k) != v)
    if wrong:
        reasons.append(f"OVS port {spec.name} external_ids differ: {', '.join(wrong)}")
    if iface.mtu_request != spec.mtu_request:
        reasons.append(
            f"OVS port {spec.name} mtu_request is {iface.mtu_request}, should be {spec.mtu_request}"
        )
    if iface.type != spec.type or iface.options != spec.options:
        reasons.append(f"OVS port {spec.name} type or options differ")
    if iface.ofport is None or iface.ofport < 0:
        reasons.append(f"OVS port {spec.name} is not usable: {iface.error or 'no ofport'}")
    return reasons


def port_plan(vetted: Vetted, inventory: Inventory) -> PortPlan:
    """What to do for one desired port."""
    marked = inventory.port_links(vetted.port_id) or inventory.port_interfaces(vetted.port_id)
    if not marked and vetted.port_id not in inventory.chains:
        return PortPlan(vetted, "plug")
    drifts = [(link, link_drift(link, inventory)) for link in vetted.layout.links]
    link_reasons = [reason for _, d in drifts for reason in d.reasons]
    ovs_reasons = ovs_drift(vetted, inventory)
    rule_reasons = rules_drift(vetted, inventory)
    reasons = tuple(link_reasons + ovs_reasons + rule_reasons)
    if any(d.recreate for _, d in drifts):
        return PortPlan(vetted, "replug", reasons)
    if not reasons:
        return PortPlan(vetted, "keep")
    return PortPlan(
        vetted,
        "repair",
        reasons,
        links=tuple(link for link, d in drifts if d.reasons),
        ovs=bool(ovs_reasons),
        rules=bool(rule_reasons),
    )


def rules_drift(vetted: Vetted, inventory: Inventory) -> list[str]:
    """How the port's nftables chain differs from what its protections need."""
    chain = inventory.chains.get(vetted.port_id)
    wanted = vetted.filter
    if wanted is None:
        return [] if chain is None else ["rules present, none wanted"]
    if chain is None:
        return ["rule chain missing"]
    if chain.digest == LEGACY:
        return ["rules in the layout of an older vifbind"]
    if chain.device != wanted.device:
        return [f"rules guard {chain.device}, should guard {wanted.device}"]
    if chain.digest != wanted.digest() or chain.security_groups != wanted.security_groups:
        return ["rules differ from the port's protections"]
    return []


def plan(
    desired: Iterable[Vetted],
    inventory: Inventory,
    peers: Mapping[str, Collection[str]] | None = None,
    *,
    orphans: bool = True,
    refused: Sequence[tuple[str, str]] = (),
) -> Plan:
    """What converges the host to ``desired`` (and removes orphans when ``orphans``).

    ``desired`` is read once, one port at a time, and only the ports that need work are kept:
    it may be a generator that vets each binding as it is asked for (``refused`` is read after
    it, so that generator may fill it meanwhile)."""
    ports: list[PortPlan] = []
    accepted: list[str] = []
    layouts: dict[str, NetworkLayout] = {}
    for vetted in desired:
        accepted.append(vetted.port_id)
        port = port_plan(vetted, inventory)
        if port.action != "keep":
            ports.append(port)
        if vetted.layout.network is not None:
            layouts[vetted.layout.network.network_id] = vetted.layout.network
    networks = _network_plans(layouts, inventory, peers or {})
    wanted_ports = set(accepted) | {p for p, _ in refused}
    wanted_networks = {n.layout.network_id for n in networks}
    orphan_ports: tuple[str, ...] = ()
    orphan_networks: tuple[str, ...] = ()
    if orphans:
        orphan_ports = tuple(sorted(inventory.owned_ports() - wanted_ports))
        orphan_networks = tuple(sorted(inventory.owned_networks() - wanted_networks))
    return Plan(
        tuple(ports), tuple(accepted), networks, orphan_ports, orphan_networks, tuple(refused)
    )


def _network_plans(
    layouts: Mapping[str, NetworkLayout],
    inventory: Inventory,
    peers: Mapping[str, Collection[str]],
) -> tuple[NetworkPlan, ...]:
    plans = []
    for network_id, layout in sorted(layouts.items()):
        create, recreate, reopen, mtu = [], [], [], []
        for link in (layout.bridge, layout.vxlan):
            found = inventory.links.get(link.name)
            if found is None:
                create.append(link)
                continue
            if link.kind == "vxlan" and (found.vni != link.vni or found.local != link.local):
                recreate.append(link)
                continue
            if found.master != link.master or not found.up:
                reopen.append(link)
            if found.mtu != link.mtu:
                mtu.append(link)
        add: tuple[str, ...] = ()
        remove: tuple[str, ...] = ()
        if network_id in peers:
            wanted = set(peers[network_id]) - {str(layout.vxlan.local)}
            have = (
                set()
                if layout.vxlan in create + recreate
                else inventory.flood.get(layout.vxlan.name, set())
            )
            add, remove = tuple(sorted(wanted - have)), tuple(sorted(have - wanted))
        plans.append(
            NetworkPlan(
                layout, tuple(create), tuple(recreate), tuple(reopen), tuple(mtu), add, remove
            )
        )
    return tuple(plans)
