"""vSphere: a real pyVmomi ``vim.vm.device.VirtualDeviceSpec`` that adds the VIF's NIC.

The card's class is the NIC (``vmxnet3``, ``e1000``, ``e1000e``); everything set on the card
comes from the binding. vSphere's own protections (port group security policy, NSX SpoofGuard)
live on the port group, not on the device, so nothing here carries them.
"""

from __future__ import annotations

from typing import cast

from pyVmomi import SoapAdapter, VmomiSupport, vim

from vifbind.contract.binding import Binding
from vifbind.contract.vifs.vmware import VmwareDetails10, VmwareVif10
from vifbind.render.attachment import HostAttachment
from vifbind.render.nic import VMWARE, NicRequest
from vifbind.render.table import RenderTable

CARD_CLASSES: dict[str, type[vim.vm.device.VirtualEthernetCard]] = {
    "vmxnet3": vim.vm.device.VirtualVmxnet3,
    "e1000": vim.vm.device.VirtualE1000,
    "e1000e": vim.vm.device.VirtualE1000e,
}
"""The device class of each NIC model ``nic.VMWARE`` offers."""

NEW_DEVICE_KEY = -1
"""A negative key marks a device being added; vCenter assigns the real one."""


def _backing(details: VmwareDetails10) -> vim.vm.device.VirtualDevice.BackingInfo:
    if details.dvs_uuid is not None and details.portgroup_key is not None:
        port = vim.dvs.PortConnection()
        port.switchUuid = details.dvs_uuid
        port.portgroupKey = details.portgroup_key
        distributed = vim.vm.device.VirtualEthernetCard.DistributedVirtualPortBackingInfo()
        distributed.port = port
        return distributed
    standard = vim.vm.device.VirtualEthernetCard.NetworkBackingInfo()
    # The details model accepts exactly one backing, so without a DVS port group there is a name.
    standard.deviceName = cast(str, details.network_name)
    return standard


def _vmware(
    vif: VmwareVif10, binding: Binding, attachment: HostAttachment, nic: NicRequest
) -> vim.vm.device.VirtualDeviceSpec:
    card = CARD_CLASSES[VMWARE.choose(nic).model]()
    card.key = NEW_DEVICE_KEY
    card.backing = _backing(vif.details)
    card.addressType = "manual"
    card.macAddress = binding.mac
    # NSX and other integrations find the logical port of a card by its externalId.
    card.externalId = binding.port_id
    connect = vim.vm.device.VirtualDevice.ConnectInfo()
    connect.startConnected = True
    connect.allowGuestControl = True
    connect.connected = True
    card.connectable = connect
    spec = vim.vm.device.VirtualDeviceSpec()
    spec.operation = vim.vm.device.VirtualDeviceSpec.Operation.add
    spec.device = card
    return spec


TABLE: RenderTable[vim.vm.device.VirtualDeviceSpec] = RenderTable("vmware", {"vmware": _vmware})
"""Every VIF type a vSphere device spec can express."""


render = TABLE.render
"""Render a binding: ``render(binding, attachment=None, nic=None)``."""


def to_soap(spec: vim.vm.device.VirtualDeviceSpec) -> str:
    """The spec as the vSphere API's SOAP XML (``urn:vim25``) of pyVmomi's newest version."""
    version = VmomiSupport.newestVersions.GetName("vim")
    serialized: bytes | str = SoapAdapter.Serialize(spec, version=version)
    return serialized.decode() if isinstance(serialized, bytes) else serialized
