"""VMware renderings: real pyVmomi device specs, serialised to the vSphere API's SOAP and back."""

from __future__ import annotations

from xml.etree.ElementTree import Element, fromstring, tostring

import pytest
from pyVmomi import SoapAdapter, vim

from vifbind.errors import BindingNotBound, UnsupportedNic, UnsupportedVifType
from vifbind.render import vmware
from vifbind.render.nic import VMWARE as VMWARE_NICS
from vifbind.render.nic import NicRequest

from builders import DVS_UUID, PORT_ID, bind, host, network, port, vlan
from render_cases import LIBVIRT_CASES, VMWARE_DVS, VMWARE_STANDARD, XEN, failed

VIM = "{urn:vim25}"
XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"


def soap(spec: vim.vm.device.VirtualDeviceSpec) -> Element:
    return fromstring(vmware.to_soap(spec))


def child(element: Element, *names: str) -> Element:
    for name in names:
        found = element.find(VIM + name)
        assert found is not None, f"no {name} in {tostring(element, encoding='unicode')}"
        element = found
    return element


def test_distributed_port_group_spec() -> None:
    doc = soap(vmware.render(VMWARE_DVS))
    assert doc.get(XSI_TYPE) == "VirtualDeviceConfigSpec"
    assert child(doc, "operation").text == "add"
    device = child(doc, "device")
    assert device.get(XSI_TYPE) == "VirtualVmxnet3"
    assert child(device, "addressType").text == "manual"
    assert child(device, "macAddress").text == "fa:16:3e:12:34:56"
    assert child(device, "externalId").text == PORT_ID
    backing = child(device, "backing")
    assert backing.get(XSI_TYPE) == "VirtualEthernetCardDistributedVirtualPortBackingInfo"
    assert child(backing, "port", "switchUuid").text == DVS_UUID
    assert child(backing, "port", "portgroupKey").text == "dvportgroup-44"
    assert child(device, "connectable", "startConnected").text == "true"


def test_standard_port_group_spec() -> None:
    backing = child(soap(vmware.render(VMWARE_STANDARD)), "device", "backing")
    assert backing.get(XSI_TYPE) == "VirtualEthernetCardNetworkBackingInfo"
    assert child(backing, "deviceName").text == "VM Network 101"


def test_soap_round_trip_gives_back_the_same_spec() -> None:
    spec = vmware.render(VMWARE_DVS)
    again = SoapAdapter.Deserialize(vmware.to_soap(spec))
    assert isinstance(again, vim.vm.device.VirtualDeviceSpec)
    assert isinstance(again.device, vim.vm.device.VirtualVmxnet3)
    assert again.device.backing.port.portgroupKey == "dvportgroup-44"
    assert vmware.to_soap(again) == vmware.to_soap(spec)


@pytest.mark.parametrize("model", VMWARE_NICS.models)
def test_nic_model_changes_only_the_card_class(model: str) -> None:
    default = child(soap(vmware.render(VMWARE_DVS)), "device")
    chosen = child(soap(vmware.render(VMWARE_DVS, nic=NicRequest(model=model))), "device")
    assert chosen.get(XSI_TYPE) == vmware.CARD_CLASSES[model].__name__.rsplit(".", 1)[-1]
    del chosen.attrib[XSI_TYPE], default.attrib[XSI_TYPE]
    assert tostring(chosen) == tostring(default)


def test_negotiated_binding_on_a_vsphere_cluster() -> None:
    esx = host(
        "esx-1",
        hypervisor="vmware",
        vif_types={"vmware": ["1.0"]},
        enforcement={"mac_spoofing": ["vmware-security-policy"], "ip_spoofing": ["nsx-spoofguard"]},
        platform={"vmware": {"dvs_uuid": DVS_UUID, "portgroups": {"physnet1:101": "pg-101"}}},
    )
    spec = vmware.render(bind(network(vlan(101)), port(), esx), nic=NicRequest(model="e1000e"))
    assert isinstance(spec.device, vim.vm.device.VirtualE1000e)
    assert spec.device.backing.port.portgroupKey == "pg-101"


def test_bad_nic_is_refused() -> None:
    with pytest.raises(UnsupportedNic, match="'virtio' is not offered on vmware"):
        vmware.render(VMWARE_DVS, nic=NicRequest(model="virtio"))
    with pytest.raises(UnsupportedNic, match="queues: nic model 'vmxnet3' on vmware has no"):
        vmware.render(VMWARE_DVS, nic=NicRequest(queues=4))


def test_other_vif_types_and_failed_bindings_are_refused() -> None:
    for other in (XEN, LIBVIRT_CASES["ovs-agent-tap"].binding):
        with pytest.raises(UnsupportedVifType, match="vmware cannot express"):
            vmware.render(other)
    with pytest.raises(BindingNotBound):
        vmware.render(failed())
