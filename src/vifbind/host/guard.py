"""Validation before anything on the host is touched (DESIGN.md, contract rule 3).

The host trusts nothing it receives: the binding is validated again through the contract's
models (a binding built without validation, or tampered with on the way, is caught here), then
against the host's own configuration, then against what is on the host: every device or OVS
port the binding would create, change or delete must be absent or carry vifbind's mark for
that very port. A refusal names the field and the reason; nothing has changed.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import ValidationError

from vifbind.contract import PROTECTIONS, Binding, VifBase
from vifbind.contract.types import check_interface_name
from vifbind.errors import UnsafeVIF, validation_problems
from vifbind.host.config import HostConfig
from vifbind.host.held import HeldBinding, protected
from vifbind.host.inventory import Inventory
from vifbind.host.layout import NEW_DEVICE_PREFIX, Layout, LinkSpec, network_owner, port_owner
from vifbind.host.plugs import PLUGS, Plug
from vifbind.host.protections.rules import PortFilter, port_filter

MECHANISM = "nftables"


@dataclass(frozen=True, slots=True)
class Vetted:
    """A binding the host accepted: everything it should own. Not the binding itself: a
    reconcile keeps the vetted ports that need work, and a binding's model is kilobytes."""

    port_id: str
    layout: Layout
    filter: PortFilter | None


def revalidate(binding: Binding | HeldBinding) -> Binding:
    """The binding validated again by the contract, whatever built it: ``binding`` itself when
    validation changes nothing (the copy is dropped at once: a reconcile vets thousands); a
    held binding is validated as it is decoded from its document."""
    try:
        if isinstance(binding, HeldBinding):
            return binding.binding()
        data = binding.model_dump(mode="python", warnings=False)
        checked = Binding.model_validate(data)
        return binding if checked == binding else checked
    except ValidationError as exc:
        raise UnsafeVIF(validation_problems(exc, "(binding)")[0]) from None
    except (TypeError, ValueError, AttributeError) as exc:
        raise UnsafeVIF(f"binding is malformed: {exc}") from None


def vet(binding: Binding | HeldBinding, config: HostConfig, inventory: Inventory) -> Vetted:
    """Accept ``binding`` for this host, or raise ``UnsafeVIF`` saying why not."""
    checked = revalidate(binding)
    if checked.host != config.host:
        raise UnsafeVIF(f"host: binding is for {checked.host!r}, this host is {config.host!r}")
    if checked.status != "bound" or checked.vif is None:
        raise UnsafeVIF(f"status: binding is {checked.status!r}, nothing to plug")
    vif = checked.vif
    plug = PLUGS.get(vif.type)
    if plug is None or vif.version not in plug.versions:
        raise UnsafeVIF(f"vif: this host does not plug {vif.type} {vif.version}")
    # What the configuration forbids is named first: it says the most about a hostile VIF.
    plug.check(checked, vif, config)
    if config.hypervisor not in plug.hypervisors:
        raise UnsafeVIF(f"vif: {vif.type} is not plugged for {config.hypervisor} guests here")
    _check_protections(checked, vif, plug)
    layout = plug.layout(checked, vif, config)
    _check_names(layout)
    _check_ownership(layout, inventory)
    if config.hypervisor == "netns" and not config.netns_path(checked.device_id).exists():
        raise UnsafeVIF(f"device_id: guest namespace {checked.device_id!r} does not exist")
    filtered = None
    if layout.filter is not None and protected(checked):
        filtered = port_filter(checked, layout.filter.device)
    return Vetted(checked.port_id, layout, filtered)


def _check_protections(binding: Binding, vif: VifBase, plug: Plug) -> None:
    for name in PROTECTIONS:
        mechanism = getattr(binding.host_enforcement, name)
        if mechanism is None:
            continue
        if mechanism != MECHANISM:
            raise UnsafeVIF(f"host_enforcement.{name}: this host enforces only with {MECHANISM}")
        if MECHANISM not in vif.host_mechanisms():
            raise UnsafeVIF(
                f"host_enforcement.{name}: a host packet filter cannot see {vif.summary()}"
            )
        if name == "security_groups" and not plug.security_groups:
            raise UnsafeVIF(
                f"host_enforcement.security_groups: no stateful filter on a {vif.type} here"
            )


def _check_names(layout: Layout) -> None:
    names = [link.name for link in _links(layout)]
    names += [link.peer.name for link in _links(layout) if link.peer and link.peer.name]
    if layout.ovs is not None:
        names.append(layout.ovs.name)
    for name in names:
        try:
            check_interface_name(name)
        except ValueError as exc:
            raise UnsafeVIF(f"vif.details: {exc}") from None
        if name.startswith(NEW_DEVICE_PREFIX):
            raise UnsafeVIF(
                f"vif.details: device name {name!r}: the prefix {NEW_DEVICE_PREFIX!r} is reserved"
            )


def _links(layout: Layout) -> list[LinkSpec]:
    links = list(layout.links)
    if layout.network is not None:
        links += [layout.network.bridge, layout.network.vxlan]
    return links


def _check_ownership(layout: Layout, inventory: Inventory) -> None:
    mine = port_owner(layout.port_id)
    wanted: dict[str, str] = {link.name: link.owner for link in layout.links}
    for link in layout.links:
        if link.peer is not None and link.peer.netns is None and link.peer.name:
            wanted[link.peer.name] = mine
    if layout.network is not None:
        owner = network_owner(layout.network.network_id)
        wanted |= {layout.network.bridge.name: owner, layout.network.vxlan.name: owner}
    for name, owner in wanted.items():
        found = inventory.links.get(name)
        if found is not None and found.alias != owner:
            mark = f"marked {found.alias!r}" if found.alias else "not marked by vifbind"
            raise UnsafeVIF(f"vif.details: device {name!r} exists and is {mark}; not touching it")
    if layout.ovs is not None:
        iface = inventory.ovs.get(layout.ovs.name)
        if iface is not None and iface.owner != layout.port_id:
            raise UnsafeVIF(
                f"vif.details: OVS interface {layout.ovs.name!r} exists and is not vifbind's "
                "for this port; not touching it"
            )
    for link in layout.links:
        if link.master is not None and link.master not in wanted:
            master = inventory.links.get(link.master)
            if master is None:
                raise UnsafeVIF(f"vif.details.bridge: bridge {link.master!r} does not exist")
            if master.kind != "bridge":
                raise UnsafeVIF(f"vif.details.bridge: {link.master!r} is not a Linux bridge")
        if link.parent is not None and link.parent not in inventory.links:
            raise UnsafeVIF(f"vif.details.parent: device {link.parent!r} does not exist")
