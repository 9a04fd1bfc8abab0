"""libvirt (KVM/QEMU): the domain XML device of a VIF, ``<interface>`` or ``<hostdev>``.

The device has two independent groups of children: the host mapping (type, source, target,
virtualport, vlan, MAC, MTU, filterref), which comes from the binding and the host attachment,
and the NIC (``NIC_TAGS``: model and driver), which comes from the NIC request alone.
"""

from __future__ import annotations

import copy
import ipaddress
from xml.etree.ElementTree import Element, SubElement, indent, tostring

from vifbind.contract.binding import Binding
from vifbind.contract.protections import ProtectionName
from vifbind.contract.vif import VifBase
from vifbind.contract.vifs.bridge import BridgeVif10
from vifbind.contract.vifs.dot1qbg import Dot1QbgVif10
from vifbind.contract.vifs.dot1qbh import Dot1QbhVif10
from vifbind.contract.vifs.hostdev_physical import HostdevPhysicalVif10
from vifbind.contract.vifs.hw_veb import HwVebVif10
from vifbind.contract.vifs.macvtap import MacvtapVif10
from vifbind.contract.vifs.ovs import OvsVif10, OvsVif11, hybrid_names
from vifbind.contract.vifs.tap import TapVif10
from vifbind.contract.vifs.vhostuser import VhostuserDetails11, VhostuserVif10, VhostuserVif11
from vifbind.errors import InvalidInput, NotRenderable, UnsupportedNic
from vifbind.render.attachment import HostAttachment
from vifbind.render.nic import LIBVIRT, Nic, NicRequest
from vifbind.render.protections import allowed_macs, allowed_sources, duties
from vifbind.render.table import RenderTable

NIC_TAGS = frozenset({"model", "driver"})
"""Children of an ``<interface>`` that come from the NIC, never from the binding."""

MTU_TYPES = frozenset({"bridge", "ethernet", "vhostuser"})
"""Interface types on which QEMU accepts ``<mtu>``; on ``direct`` and ``hostdev`` it refuses
it, and the host device (macvtap parent, VF) carries the MTU instead."""

NWFILTER = "nwfilter"
NWFILTERS: dict[frozenset[ProtectionName], str] = {
    frozenset({"mac_spoofing", "ip_spoofing"}): "clean-traffic",
    frozenset({"mac_spoofing"}): "no-mac-spoofing",
}
"""libvirt's shipped filter for each set of protections assigned to nwfilter."""


def _element(tag: str, **attrs: str) -> Element:
    return Element(tag, attrs)


def _filterref(vif: VifBase, binding: Binding) -> Element | None:
    owed = duties(binding, vif, NWFILTER)
    if not owed:
        return None
    name = NWFILTERS.get(owed)
    if name is None:
        raise NotRenderable(
            f"host_enforcement: no libvirt filter enforces exactly {', '.join(sorted(owed))}"
        )
    ref = _element("filterref", filter=name)
    for mac in allowed_macs(binding):
        SubElement(ref, "parameter", name="MAC", value=mac)
    if "ip_spoofing" in owed:
        ips = []
        for source in allowed_sources(binding):
            address = source.address(name)
            if ipaddress.ip_address(address).version != 4:
                raise NotRenderable(
                    f"{source.field}: {address} is IPv6, and {name} drops all IPv6 traffic"
                )
            ips.append(address)
        if not ips:
            raise NotRenderable(
                f"fixed_ips: the port has no IPv4 address; {name} would learn one from the "
                "guest's traffic instead of enforcing the port's"
            )
        for ip in ips:
            SubElement(ref, "parameter", name="IP", value=ip)
    return ref


def _interface(
    kind: str,
    vif: VifBase,
    binding: Binding,
    host: list[Element],
    nic: Nic | None,
    **attrs: str,
) -> Element:
    iface = _element("interface", type=kind, **attrs)
    SubElement(iface, "mac", address=binding.mac)
    iface.extend(host)
    if nic is not None:
        SubElement(iface, "model", type=nic.model)
        if nic.queues is not None and nic.queues > 1:
            SubElement(iface, "driver", queues=str(nic.queues))
    if kind in MTU_TYPES:
        SubElement(iface, "mtu", size=str(binding.mtu))
    filterref = _filterref(vif, binding)
    if filterref is not None:
        iface.append(filterref)
    return iface


def _virtualport(kind: str, **parameters: str) -> Element:
    port = _element("virtualport", type=kind)
    SubElement(port, "parameters", parameters)
    return port


def _pci_source(pci_address: str, **address_attrs: str) -> Element:
    domain, bus, slot_function = pci_address.split(":")
    slot, function = slot_function.split(".")
    source = _element("source")
    SubElement(
        source,
        "address",
        address_attrs,
        domain=f"0x{domain}",
        bus=f"0x{bus}",
        slot=f"0x{slot}",
        function=f"0x{function}",
    )
    return source


def _vlan(tag: int) -> list[Element]:
    if tag == 0:
        return []
    vlan = _element("vlan")
    SubElement(vlan, "tag", id=str(tag))
    return [vlan]


def _tap_target(devname: str, attachment: HostAttachment) -> Element:
    if attachment.tap_created_by == "agent":
        return _element("target", dev=devname, managed="no")
    return _element("target", dev=devname)


def _ovs(
    vif: OvsVif10 | OvsVif11, binding: Binding, attachment: HostAttachment, nic: NicRequest
) -> Element:
    d = vif.details
    chosen = LIBVIRT.choose(nic)
    if d.hybrid:
        source = _element("source", bridge=hybrid_names(d.devname).bridge)
        return _interface(
            "bridge", vif, binding, [source, _element("target", dev=d.devname)], chosen
        )
    if attachment.tap_created_by == "agent":
        return _interface("ethernet", vif, binding, [_tap_target(d.devname, attachment)], chosen)
    host = [
        _element("source", bridge=d.bridge),
        _virtualport("openvswitch", interfaceid=d.interface_id),
        _element("target", dev=d.devname),
    ]
    return _interface("bridge", vif, binding, host, chosen)


def _bridge(
    vif: BridgeVif10, binding: Binding, attachment: HostAttachment, nic: NicRequest
) -> Element:
    host = [
        _element("source", bridge=vif.details.bridge),
        _element("target", dev=vif.details.devname),
    ]
    return _interface("bridge", vif, binding, host, LIBVIRT.choose(nic))


def _tap(vif: TapVif10, binding: Binding, attachment: HostAttachment, nic: NicRequest) -> Element:
    host = [_tap_target(vif.details.devname, attachment)]
    return _interface("ethernet", vif, binding, host, LIBVIRT.choose(nic))


def _vhostuser(
    vif: VhostuserVif10 | VhostuserVif11,
    binding: Binding,
    attachment: HostAttachment,
    nic: NicRequest,
) -> Element:
    d = vif.details
    model = nic.model if nic.model is not None else LIBVIRT.default
    if model != "virtio":
        LIBVIRT.choose(nic)  # an unknown model gets the generic message
        raise UnsupportedNic(f"nic model {model!r}: vhost-user carries only virtio NICs")
    queues = d.queues if isinstance(d, VhostuserDetails11) else 1
    if nic.queues is not None and nic.queues != queues:
        raise UnsupportedNic(
            f"queues: {nic.queues} contradicts the vhostuser VIF, whose switch port has "
            f"{queues} queue pair(s)"
        )
    source = _element("source", type="unix", path=d.socket_path, mode=d.mode)
    return _interface("vhostuser", vif, binding, [source], Nic(model=model, queues=queues))


def _macvtap(
    vif: MacvtapVif10, binding: Binding, attachment: HostAttachment, nic: NicRequest
) -> Element:
    source = _element("source", dev=vif.details.parent, mode=vif.details.mode)
    return _interface("direct", vif, binding, [source], LIBVIRT.choose(nic))


def _dot1qbg(
    vif: Dot1QbgVif10, binding: Binding, attachment: HostAttachment, nic: NicRequest
) -> Element:
    d = vif.details
    host = [
        _element("source", dev=d.parent, mode="vepa"),
        _virtualport(
            "802.1Qbg",
            managerid=str(d.manager_id),
            typeid=str(d.type_id),
            typeidversion=str(d.type_id_version),
            instanceid=d.instance_id,
        ),
    ]
    return _interface("direct", vif, binding, host, LIBVIRT.choose(nic))


def _dot1qbh(
    vif: Dot1QbhVif10, binding: Binding, attachment: HostAttachment, nic: NicRequest
) -> Element:
    host = [
        _element("source", dev=vif.details.parent, mode="passthrough"),
        _virtualport("802.1Qbh", profileid=vif.details.profile_id),
    ]
    return _interface("direct", vif, binding, host, LIBVIRT.choose(nic))


def _hw_veb(
    vif: HwVebVif10, binding: Binding, attachment: HostAttachment, nic: NicRequest
) -> Element:
    d = vif.details
    if d.attach == "hostdev":
        LIBVIRT.refuse(nic, f"the hw_veb VF {d.pci_address}")
        host = [_pci_source(d.pci_address, type="pci"), *_vlan(d.vlan)]
        return _interface("hostdev", vif, binding, host, None, managed="yes")
    if attachment.vf_netdev is None:
        raise InvalidInput(
            f"attachment.vf_netdev: an hw_veb VIF attached 'direct' needs the host netdev of "
            f"VF {d.pci_address}"
        )
    host = [_element("source", dev=attachment.vf_netdev, mode="passthrough"), *_vlan(d.vlan)]
    return _interface("direct", vif, binding, host, LIBVIRT.choose(nic))


def _hostdev_physical(
    vif: HostdevPhysicalVif10, binding: Binding, attachment: HostAttachment, nic: NicRequest
) -> Element:
    LIBVIRT.refuse(nic, f"the hostdev_physical function {vif.details.pci_address}")
    # A <hostdev> has no MAC, MTU or filter: the function keeps its own. Refuse a binding that
    # expects nwfilter to guard it rather than render it unguarded.
    duties(binding, vif, NWFILTER)
    hostdev = _element("hostdev", mode="subsystem", type="pci", managed="yes")
    hostdev.append(_pci_source(vif.details.pci_address))
    return hostdev


TABLE: RenderTable[Element] = RenderTable(
    "libvirt",
    {
        "ovs": _ovs,
        "bridge": _bridge,
        "tap": _tap,
        "vhostuser": _vhostuser,
        "macvtap": _macvtap,
        "802.1qbg": _dot1qbg,
        "802.1qbh": _dot1qbh,
        "hw_veb": _hw_veb,
        "hostdev_physical": _hostdev_physical,
    },
)
"""Every VIF type libvirt can express."""


render = TABLE.render
"""Render a binding: ``render(binding, attachment=None, nic=None)``."""


def to_xml(element: Element) -> str:
    """The element as indented XML text, ending with a newline."""
    pretty = copy.deepcopy(element)
    indent(pretty, "  ")
    return tostring(pretty, encoding="unicode") + "\n"
